"""Notification emails through a real Celery worker and a real SMTP server (aiosmtpd on 127.0.0.1)."""

import datetime as dt
import email
import socket
import time
import uuid
from email import policy

import pytest
from aiosmtpd.controller import Controller

from notifications import services as notices
from notifications import tasks
from notifications.models import Notification, Preference
from reports import services, workflow
from reports.models import Finding, ReportRun
from tests import factories as f
from tests.conftest import create_roles
from tests.reports.test_worker import Worker

# One xdist group: the module's tests share one Celery worker (`module_worker`), started on one pytest worker.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.xdist_group("notifications-email")]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    def __init__(self, port):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()

    @property
    def messages(self):
        return self.inbox.messages


@pytest.fixture(scope="module")
def mail_port():
    """The port of the SMTP server of every test of the module, the one their worker sends to."""
    return free_port()


@pytest.fixture
def mail(mail_port):
    """The test's own SMTP server (started by the test, so that a test may first have nothing listen)."""
    server = MailServer(mail_port)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_worker(django_db_setup, mail_port):
    """One Celery worker for the module's tests (starting one takes seconds): each test ends with its queue
    done (`caught_up` or what it waited for), and a new SMTP server listens on the same port for each."""
    queue = f"notifications-test-{uuid.uuid4().hex[:10]}"
    started = Worker(
        queue,
        NOTIFICATIONS_QUEUE=queue,
        EMAIL_URL=f"smtp://127.0.0.1:{mail_port}",
        NOTIFICATION_RETRY_SECONDS="0.5",
    )
    started.queue = queue
    yield started
    started.kill()


@pytest.fixture
def worker(settings, mail, module_worker):
    settings.NOTIFICATIONS_QUEUE = module_worker.queue
    said_before = len(module_worker.output())
    yield module_worker
    # What the worker said during the test, shown with the test's output when it fails.
    print(f"--- Celery worker ---\n{module_worker.output()[said_before:]}")


def caught_up(worker):
    """Wait until the worker has done every task queued for it so far: a task sent after them comes back done
    (one worker, one process, its queue taken in order)."""
    from django.conf import settings

    from nhs_joint.celery import app

    app.send_task("celery.backend_cleanup", queue=settings.NOTIFICATIONS_QUEUE).get(timeout=90)


def wait_for(check, timeout=90, what="it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def world(nhse, nhsi):
    create_roles()
    london = f.RegionFactory(ods_code="Y56", name="London")
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=40)
    staff = f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")
    director = f.UserFactory(
        username="jo.director", role="Regional director", bodies=[nhse], region=london, first_name="Jo"
    )
    report = ReportRun.objects.create(kind="consistency")
    services.execute(report.pk)
    finding = Finding.objects.get(run=report, rule="appointment-shares")
    return {"staff": staff, "director": director, "finding": finding, "nhse": nhse}


def text_and_html(message):
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


def test_an_assignment_sends_one_email_to_the_assignee(world, mail, worker):
    mail.start()
    finding = world["finding"]
    workflow.assign(finding, world["director"], None, world["staff"])
    wait_for(lambda: mail.messages, what="the email")
    caught_up(worker)  # nothing else follows
    assert len(mail.messages) == 1, worker.output()
    message = mail.messages[0]
    assert message["To"] == "jo.director@example.nhs.uk"
    assert message["Subject"].strip().startswith("Sam Staff gave you a finding to act on")
    text, html = text_and_html(message)
    assert (
        f"http://127.0.0.1:8000/findings/{finding.pk}/" in text
        and f'href="http://127.0.0.1:8000/findings/{finding.pk}/"' in html
    )
    assert "#005eb8" in html and "Stop these emails" in html
    # The one-click link (also in List-Unsubscribe) changes only the email preference, without signing in.
    stop = message["List-Unsubscribe"].strip("<>")
    token = stop.rstrip("/").rsplit("/", 1)[1]
    assert notices.read_preference_token(token)[0] == world["director"]
    notification = Notification.objects.get(user=world["director"], kind="assigned")
    assert notification.sent and notification.attempts == 1 and not notification.last_error


def test_preferences_none_and_daily_send_nothing_at_once(world, mail, worker, nhse):
    mail.start()
    quiet = f.UserFactory(username="no.mail", role="Staff", bodies=[nhse])
    daily = f.UserFactory(username="daily.mail", role="Staff", bodies=[nhse])
    notices.set_preference(quiet, Preference.Email.NONE)
    notices.set_preference(daily, Preference.Email.DAILY)
    for person in (quiet, daily):
        case = workflow.assign(world["finding"], person, None, world["staff"])
        assert Notification.objects.get(user=person, kind="assigned").delivery != "immediate"
    workflow.assign(world["finding"], world["director"], None, world["staff"])  # the one who wants it at once
    wait_for(lambda: mail.messages, what="the director's email")
    caught_up(worker)  # nothing else follows
    assert [m["To"] for m in mail.messages] == ["jo.director@example.nhs.uk"], worker.output()
    assert case.assignee == daily


def test_the_daily_digest_gathers_a_days_events_into_one_email_per_person(world, mail, worker, nhse):
    mail.start()
    daily = f.UserFactory(username="daily.mail", role="Staff", bodies=[nhse])
    notices.set_preference(daily, Preference.Email.DAILY)
    quiet = f.UserFactory(username="no.mail", role="Staff", bodies=[nhse])
    notices.set_preference(quiet, Preference.Email.NONE)
    programme = f.ProgrammeFactory(bodies=[nhse], title="Winter")
    for person in (world["staff"], daily, quiet):
        notices.watch(person, programme)
    for title in ("Winter resilience", "Winter pressures", "Winter 2019"):
        programme.title = title
        programme._history_user = world["director"]
        programme.save()
    workflow.assign(world["finding"], daily, None, world["staff"])  # daily: into the digest too
    assert not Notification.objects.filter(delivery="immediate").exists()
    tasks.send_digests.apply_async(queue=worker_queue(worker))
    wait_for(lambda: len(mail.messages) >= 2, what="the digests")
    caught_up(worker)  # nothing else follows
    by_person = {m["To"]: m for m in mail.messages}
    assert len(mail.messages) == 2 and set(by_person) == {"sam.staff@example.nhs.uk", "daily.mail@example.nhs.uk"}
    staff_text, _ = text_and_html(by_person["sam.staff@example.nhs.uk"])
    assert staff_text.count("changed programme Winter") == 3
    daily_text, daily_html = text_and_html(by_person["daily.mail@example.nhs.uk"])
    assert daily_text.count("changed programme Winter") == 3 and "gave you a finding to act on" in daily_text
    assert by_person["daily.mail@example.nhs.uk"]["Subject"].strip().startswith("Your daily summary: 4 notifications")
    assert not Notification.objects.filter(delivery="digest", sent__isnull=True).exists()
    assert (
        Notification.objects.filter(user=quiet, delivery="none", sent__isnull=True).count() == 3
    )  # listed, not emailed


def worker_queue(worker):
    from django.conf import settings

    return settings.NOTIFICATIONS_QUEUE


def test_a_failed_delivery_is_retried_and_the_notification_is_never_lost(world, mail, worker):
    # Nothing listens on the mail server's port yet: the first tries are refused.
    workflow.assign(world["finding"], world["director"], None, world["staff"])
    notification = Notification.objects.get(user=world["director"], kind="assigned")
    failed = wait_for(
        lambda: Notification.objects.filter(pk=notification.pk, attempts__gte=1).exclude(last_error="").first(),
        what="a failed try",
    )
    assert failed.sent is None and failed.last_error  # the refusal is recorded, the notification kept
    mail.start()
    delivered = wait_for(
        lambda: Notification.objects.filter(pk=notification.pk, sent__isnull=False).first(), what="the delivery"
    )
    assert delivered.attempts >= 2 and delivered.last_error == ""
    caught_up(worker)  # nothing else follows
    assert len(mail.messages) == 1 and mail.messages[0]["To"] == "jo.director@example.nhs.uk"


def test_the_periodic_resend_queues_what_is_still_unsent(world, mail, worker, settings):
    mail.start()
    notification = Notification.objects.create(
        user=world["director"], kind="assigned", text="Left unsent", url="/", delivery="immediate"
    )
    Notification.objects.filter(pk=notification.pk).update(created=notification.created - dt.timedelta(hours=1))
    assert tasks.resend_unsent() == 1
    wait_for(lambda: mail.messages, what="the re-sent email")
    assert mail.messages[0]["Subject"].strip() == "Left unsent"


def test_a_comment_on_a_finding_reaches_the_person_who_gave_it_and_the_one_who_holds_it(world, mail, worker, nhse):
    """Both act on the finding, so a comment asks them to act: each is emailed at once. The commenter
    watches the finding from then on; a mere watcher hears of it in the digest."""
    from collaboration.services import post_comment

    mail.start()
    finding, staff, director = world["finding"], world["staff"], world["director"]
    onlooker = f.UserFactory(username="only.watching", role="Staff", bodies=[nhse])
    notices.watch(onlooker, finding)
    workflow.assign(finding, director, None, staff)  # the assignee's email
    wait_for(lambda: mail.messages, what="the assignment's email")
    commenter = f.UserFactory(username="pat.colleague", role="Staff", bodies=[nhse], first_name="Pat")
    post_comment(finding, director, "The shares are being corrected with HR this week.")
    wait_for(lambda: len(mail.messages) >= 2, what="the comment's email to the person who gave the finding")
    post_comment(finding, commenter, "HR confirmed the 10% gap.")
    wait_for(lambda: len(mail.messages) >= 4, what="the second comment's emails")
    caught_up(worker)  # nothing else follows
    sent = [(m["To"], m["Subject"].strip()) for m in mail.messages]
    assert sent[1] == ("sam.staff@example.nhs.uk", f"Jo commented on {finding}"), worker.output()
    assert sorted(sent[2:]) == [
        ("jo.director@example.nhs.uk", f"Pat commented on {finding}"),
        ("sam.staff@example.nhs.uk", f"Pat commented on {finding}"),
    ]
    assert len(mail.messages) == 4, sent
    assert notices.is_watching(commenter, finding)
    told = Notification.objects.filter(kind="comment").values_list("user__username", "delivery")
    assert sorted(told) == [
        ("jo.director", "immediate"),
        ("only.watching", "digest"),
        ("only.watching", "digest"),
        ("sam.staff", "immediate"),
        ("sam.staff", "immediate"),
    ]
