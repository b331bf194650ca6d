"""The consultation loop through the API, with a real Celery worker and a real SMTP server (aiosmtpd on
127.0.0.1): opened for London's providers, the partner of a London trust told at once, their concern told to
the expectation's author and the programme's watchers, and the consultation closing itself (the beat task,
run through the worker by the test) with its author told it is ready to agree."""

import datetime as dt

import pytest
from django.conf import settings
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from asks import services as asks
from asks import tasks
from asks.models import Expectation
from notifications import services as notices
from notifications.models import Notification
from organisations.models import Organisation
from tests import factories as f
from tests.conftest import create_roles
from tests.factories import token_for
from tests.notifications.test_email import (  # noqa: F401 (fixtures)
    mail,
    mail_port,
    module_worker,
    text_and_html,
    wait_for,
    worker,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CONCERN = "Ninety-two per cent is not reachable this winter without the beds we were promised."


def api_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


def all_sent():
    """Every email asked for at once has been delivered (none still waiting for the worker)."""
    return not Notification.objects.filter(delivery="immediate", sent__isnull=True).exists()


def to(server, address):
    return [m for m in server.messages if m["To"] == address]


@pytest.fixture
def world(nhse, nhsi):
    create_roles()
    london = f.RegionFactory(ods_code="Y56", name="London")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands")
    trust = f.OrganisationFactory(ods_code="R1H", name="Barts Health NHS Trust", region=london)
    ccg = f.OrganisationFactory(ods_code="07L", name="Barking CCG", region=london, kind=Organisation.Kind.CCG)
    elsewhere = f.OrganisationFactory(ods_code="RRK", name="Birmingham NHS Trust", region=midlands)
    programme = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse, title="Urgent care")
    f.MeasureFactory(code="ae-4h", name="A&E within four hours", unit="percent")
    author = f.UserFactory(username="sam.author", role=Role.STAFF, bodies=[nhse], first_name="Sam")
    watcher = f.UserFactory(username="wendy.watcher", role=Role.STAFF, bodies=[nhsi], first_name="Wendy")
    notices.watch(watcher, programme)

    def partner(organisation, name):
        return f.UserFactory(username=name, role=Role.PARTNER, organisation=organisation)

    return {
        "programme": programme,
        "author": author,
        "watcher": watcher,
        "partner": partner(trust, "pat.barts"),
        "ccg_partner": partner(ccg, "cory.ccg"),
        "far_partner": partner(elsewhere, "max.midlands"),
        "trust": trust,
    }


def test_the_consultation_loop_through_the_api(world, mail, worker):  # noqa: F811 (the fixtures imported)
    mail.start()
    author, partner = world["author"], world["partner"]
    staff_api, partner_api = api_for(author), api_for(partner)
    created = staff_api.post(
        "/api/v1/expectations/",
        {
            "programme": world["programme"].slug,
            "issued_by": "NHSE",
            "audience": "providers",
            "region": "Y56",
            "measure": "ae-4h",
            "comparator": ">=",
            "target": 92,
            "start_date": "2019-04-01",
            "due_date": "2100-03-31",
            "wording": "London's trusts see 92% of patients within four hours.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    consult = f"/api/v1/expectations/{pk}/consult/"

    # Bad input names the field; a partner, or staff of the other body, may not open it.
    for bad in ({}, {"closes": "30/06/2100"}, {"closes": "2000-01-01"}):
        refused = staff_api.post(consult, bad, format="json")
        assert refused.status_code == 400 and "closes" in refused.json(), (bad, refused.content)
    closes = timezone.localdate() + dt.timedelta(days=30)
    assert partner_api.post(consult, {"closes": f"{closes}"}, format="json").status_code == 403
    assert api_for(world["watcher"]).post(consult, {"closes": f"{closes}"}, format="json").status_code == 403
    assert Expectation.objects.get(pk=pk).stage == "draft"

    opened = staff_api.post(consult, {"closes": f"{closes}"}, format="json")
    assert opened.status_code == 200 and opened.json()["stage"] == "consultation", opened.content
    assert opened.json()["consultation_closes"] == f"{closes}"

    # The London trust's partner is told at once, once; the CCG's and the Midlands trust's are not.
    wait_for(lambda: to(mail, "pat.barts@example.nhs.uk") and all_sent(), what="the partner's email")
    told = Notification.objects.get(user=partner)
    assert told.kind == "consultation" and "A&E within four hours" in told.text and "Y56" not in told.text
    assert told.url == f"/consultations/{pk}/"
    (email,) = to(mail, "pat.barts@example.nhs.uk")
    text, html = text_and_html(email)
    assert "A&E within four hours" in email["Subject"] and f"http://127.0.0.1:8000/consultations/{pk}/" in text
    assert [m["To"] for m in mail.messages] == ["pat.barts@example.nhs.uk"]
    assert not Notification.objects.filter(user__in=[world["ccg_partner"], world["far_partner"]]).exists()

    # The partner's notifications page answers and holds their own only.
    browser = Client()
    browser.force_login(partner)
    page = browser.get("/notifications/")
    assert page.status_code == 200 and f"/consultations/{pk}/" in page.content.decode()

    # The partner's consultations list holds it; they answer with concerns (words needed, the field named).
    listed = partner_api.get("/api/v1/consultations/")
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["results"]] == [pk]
    assert listed.json()["results"][0]["closes"] == f"{closes}" and listed.json()["results"][0]["responses"] == []
    respond = f"/api/v1/consultations/{pk}/responses/"
    for bad, field in (({"answer": "concerns"}, "comment"), ({"answer": "maybe"}, "answer"), ({}, "answer")):
        refused = partner_api.post(respond, bad, format="json")
        assert refused.status_code == 400 and field in refused.json(), (bad, refused.content)
    assert staff_api.post(respond, {"answer": "agree"}, format="json").status_code == 403
    assert api_for(world["far_partner"]).post(respond, {"answer": "agree"}, format="json").status_code == 404
    answered = partner_api.post(respond, {"answer": "concerns", "comment": CONCERN}, format="json")
    assert answered.status_code == 201, answered.content
    assert answered.json()["answer"] == "concerns" and answered.json()["organisation"] == "R1H"

    # The author and the programme's watcher are told at once, quoting the comment.
    wait_for(
        lambda: to(mail, "sam.author@example.nhs.uk") and to(mail, "wendy.watcher@example.nhs.uk") and all_sent(),
        what="the author's and the watcher's emails",
    )
    for person in (author, world["watcher"]):
        (notice,) = Notification.objects.filter(user=person, kind="response")
        assert CONCERN in notice.text and "Barts Health NHS Trust has concerns" in notice.text
        (email,) = to(mail, person.email)
        assert CONCERN in text_and_html(email)[0]
    listed = staff_api.get("/api/v1/consultations/").json()["results"]
    assert [c["responses"][0]["comment"] for c in listed] == [CONCERN]

    # The closing date passes: the beat task, run through the worker, closes it and tells the author.
    Expectation.objects.filter(pk=pk).update(consultation_closes=timezone.localdate() - dt.timedelta(days=1))
    before = len(mail.messages)
    tasks.close_consultations.apply_async(queue=settings.NOTIFICATIONS_QUEUE)  # the worker's
    closed = wait_for(
        lambda: Notification.objects.filter(user=author, kind="consultation", sent__isnull=False).first(),
        what="the author told it closed",
    )
    assert "ready to agree" in closed.text and "1 response: 0 agree, 1 with concerns" in closed.text
    assert CONCERN[:80] in closed.text
    wait_for(all_sent, what="every email")
    (email,) = mail.messages[before:]
    assert email["To"] == "sam.author@example.nhs.uk" and "ready to agree" in text_and_html(email)[0]
    expectation = Expectation.objects.get(pk=pk)
    assert expectation.consultation_closed_at is not None and not asks.is_open(expectation)
    # Closing twice does nothing.
    assert asks.close_consultations() == 0
    assert Notification.objects.filter(user=author, kind="consultation").count() == 1
    assert not Notification.objects.filter(~Q(user__in=[author, partner, world["watcher"]])).exists()
