"""The finding workflow across runs, watching, the in-portal notifications, My work and their API."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from markupsafe import escape
from rest_framework.test import APIClient

from appointments.models import AppointmentShare
from notifications import services as notices
from notifications.models import Notification, Preference, Watch
from reports import services, workflow
from reports.models import Finding, FindingCase, ReportRun
from tests import factories as f
from tests.factories import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    short = f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=40)
    staff = f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")
    director = f.UserFactory(
        username="jo.director",
        role="Regional director",
        bodies=[nhse],
        region=london,
        first_name="Jo",
        last_name="Director",
    )
    return {"london": london, "staff": staff, "director": director, "short": short, "nhse": nhse, "post": post}


def run(kind="consistency"):
    report = ReportRun.objects.create(kind=kind)
    services.execute(report.pk)
    report.refresh_from_db()
    return report


def shares_finding(report):
    return Finding.objects.get(run=report, rule="appointment-shares")


def api_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


class TestAcrossRuns:
    def test_a_problem_fixed_in_the_data_is_resolved_by_the_next_run_and_reopened_if_it_returns(self, world):
        first = shares_finding(run())
        case = FindingCase.objects.get(fingerprint=first.fingerprint)
        assert case.state == "open" and case.latest_finding == first
        workflow.assign(first, world["director"], None, world["staff"])
        workflow.change_state(first, "in_progress", world["director"])

        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=50)
        second = run()
        assert not Finding.objects.filter(run=second, rule="appointment-shares").exists()
        case.refresh_from_db()
        assert case.state == "resolved_by_data" and case.state_changed >= second.started
        assert second.counts["cases"]["resolved_by_data"] == 1
        page = self.page(world, first)
        assert "Resolved by the data on" in page and "the latest run no longer finds it" in page
        history = page.split('id="case-history"')[1].split("</ul>")[0]  # every change, newest first, in words
        assert "Resolved by the data" in history and "No longer found by the report" in history
        assert "In progress, given to Jo Director" in history and "by Jo Director" in history
        # The people acting on it are told.
        assert Notification.objects.filter(user=world["staff"], text__startswith="Resolved by the data").exists()

        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=40)
        third = shares_finding(run())
        case.refresh_from_db()
        assert case.state == "open" and case.latest_finding == third and case.assignee == world["director"]
        states = list(case.history.order_by("history_id").values_list("state", flat=True))
        assert states == ["open", "open", "in_progress", "resolved_by_data", "open"]  # every change kept

    def test_watchers_of_the_records_hear_of_new_and_returning_problems_and_of_the_case_its_resolution(self, world):
        watcher = f.UserFactory(role="Staff", bodies=[world["nhse"]], first_name="Wendy", last_name="Watcher")
        notices.watch(watcher, world["post"])  # the post the shares finding names ...
        notices.watch(watcher, world["post"].person)  # ... and its holder: told once all the same
        first = shares_finding(run())
        found = f"A report found a problem with a record you watch: {first.message}"
        assert list(Notification.objects.filter(user=watcher).values_list("text", "url")) == [
            (found, first.get_absolute_url())
        ]
        case = FindingCase.objects.get(fingerprint=first.fingerprint)
        notices.watch(world["staff"], case)

        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=50)
        run()  # resolved by the data: the case's watcher hears of it, the records' watcher does not
        resolved = f"Resolved by the data: the report no longer finds “{first.message}”"
        assert list(Notification.objects.filter(user=world["staff"]).values_list("text", "object_id")) == [
            (resolved, case.pk)
        ]
        assert Notification.objects.filter(user=watcher).count() == 1

        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=40)
        third = shares_finding(run())  # found again: both hear of it, about the case, linking the new finding
        again = f"A report found again a problem with a record you watch: {third.message}"
        for person in (watcher, world["staff"]):
            assert list(Notification.objects.filter(user=person, text=again).values_list("object_id", "url")) == [
                (case.pk, third.get_absolute_url())
            ]
        assert not Notification.objects.filter(user=world["director"]).exists()  # watching nothing, told nothing

    def page(self, world, finding):
        from django.test import Client

        client = Client()
        client.force_login(world["staff"])
        return client.get(f"/findings/{finding.pk}/").content.decode()

    def test_the_run_updates_cases_in_a_fixed_number_of_queries(self, world, nhse, nhsi):
        def queries_of_a_run():
            report = ReportRun.objects.create(kind="consistency")
            with CaptureQueriesContext(connection) as ctx:
                services.execute(report.pk)
            report.refresh_from_db()
            return len(ctx.captured_queries), report

        run()  # the first run makes the one case
        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=50)
        few, report = queries_of_a_run()  # it is resolved by the data
        assert report.counts["cases"]["resolved_by_data"] == 1
        AppointmentShare.objects.filter(pk=world["short"].pk).update(fte_percent=40)
        for n in range(12):
            post = f.AppointmentFactory(title=f"Joint post {n}", start_date=dt.date(2019, 4, 1))
            f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=30)
            f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=30)
        assert run().counts["cases"] == {"new": 12, "reopened": 1, "resolved_by_data": 0}
        AppointmentShare.objects.update(fte_percent=50)
        many, report = queries_of_a_run()  # all of them resolved by the data at once
        assert report.counts["cases"]["resolved_by_data"] == 13
        assert many == few


class TestWorkflowPages:
    def test_assign_and_progress_on_the_finding_page(self, client, world):
        finding = shares_finding(run())
        client.force_login(world["staff"])
        page = client.get(f"/findings/{finding.pk}/").content.decode()
        assert "Acting on it" in page and "Nobody yet" in page and "Jo Director" in page
        refused = client.post(f"/findings/{finding.pk}/assign/", {"assignee": "", "due_date-day": "31"})
        body = refused.content.decode()
        assert (
            refused.status_code == 400 and 'href="#id_assignee"' in body and "Select the person to act on it." in body
        )
        assert "The due date must include a month and a year." in body
        past = client.post(
            f"/findings/{finding.pk}/assign/",
            {"assignee": world["director"].pk, "due_date-day": "1", "due_date-month": "1", "due_date-year": "2020"},
        )
        assert past.status_code == 400 and "The due date must be today or in the future." in past.content.decode()
        due = timezone.localdate() + dt.timedelta(days=14)
        done = client.post(
            f"/findings/{finding.pk}/assign/",
            {
                "assignee": world["director"].pk,
                "due_date-day": due.day,
                "due_date-month": due.month,
                "due_date-year": due.year,
            },
            follow=True,
        )
        assert "Given to Jo Director." in done.content.decode()
        case = FindingCase.objects.get(fingerprint=finding.fingerprint)
        assert case.assignee == world["director"] and case.due_date == due and case.assigned_by == world["staff"]
        told = Notification.objects.get(user=world["director"], kind="assigned")
        assert told.url == f"/findings/{finding.pk}/" and told.delivery == "immediate" and "Sam Staff" in told.text
        # Not a problem needs a reason, named.
        empty = client.post(f"/findings/{finding.pk}/state/", {"state": "not_a_problem", "reason": " "})
        assert empty.status_code == 400 and 'href="#id_reason"' in empty.content.decode()
        bad = client.post(f"/findings/{finding.pk}/state/", {"state": "finished"})
        assert bad.status_code == 400 and 'href="#id_state_0"' in bad.content.decode()

    def test_someone_who_cannot_act_on_it_is_not_offered_nor_accepted(self, client, world, nhsi):
        finding = shares_finding(run())
        outsider = f.UserFactory(role="Staff", bodies=[f.NationalBodyFactory(code="DHSC", name="DHSC")])
        client.force_login(world["staff"])
        response = client.post(f"/findings/{finding.pk}/assign/", {"assignee": outsider.pk})
        assert (
            response.status_code == 400 and "Select a person to act on it from the list." in response.content.decode()
        )
        client.force_login(outsider)
        assert client.post(f"/findings/{finding.pk}/state/", {"state": "resolved"}).status_code == 403
        assert not FindingCase.objects.filter(assignee__isnull=False).exists()


class TestWatching:
    def test_watch_and_stop_watching_from_a_records_page(self, client, world):
        programme = f.ProgrammeFactory(bodies=[world["nhse"]], title="Winter")
        client.force_login(world["staff"])
        page = client.get(programme.get_absolute_url()).content.decode()
        assert ">Watch</button>" in page
        client.post(
            "/watching/", {"type": "programmes.programme", "id": programme.pk, "next": programme.get_absolute_url()}
        )
        assert ">Stop watching</button>" in client.get(programme.get_absolute_url()).content.decode()
        # Someone else's change tells the watcher, in their digest.
        programme.title = "Winter pressures"
        programme._history_user = world["director"]
        programme.save()
        told = Notification.objects.get(user=world["staff"])
        assert told.kind == "change" and told.delivery == "digest" and "Jo Director changed programme" in told.text
        client.post("/watching/", {"type": "programmes.programme", "id": programme.pk, "watch": "no"})
        assert Watch.objects.get(user=world["staff"]).active is False
        assert ">Watch</button>" in client.get(programme.get_absolute_url()).content.decode()
        assert client.post("/watching/", {"type": "programmes.nothing", "id": "x"}).status_code == 404
        assert client.post("/watching/", {"type": "notifications.notification", "id": "1"}).status_code == 404
        assert client.post("/watching/", {"type": "programmes.programme", "id": "99999999"}).status_code == 404

    def test_editing_a_programme_watches_it_unless_you_stopped(self, client, world):
        programme = f.ProgrammeFactory(bodies=[world["nhse"]])
        programme._history_user = world["staff"]
        programme.save()
        assert notices.is_watching(world["staff"], programme)
        notices.unwatch(world["staff"], programme)
        programme.save()
        assert not notices.is_watching(world["staff"], programme)

    def test_a_new_finding_tells_the_watchers_of_its_records(self, world):
        notices.watch(world["staff"], world["post"])
        finding = shares_finding(run())
        told = Notification.objects.get(user=world["staff"], kind="finding")
        assert told.url == f"/findings/{finding.pk}/" and "total 90%" in told.text

    def test_a_comment_tells_mentioned_people_at_once_and_watchers_in_their_digest(self, world):
        from nhs_joint.signals import comment_posted

        programme = f.ProgrammeFactory(bodies=[world["nhse"]], title="Winter")
        notices.watch(world["staff"], programme)
        other = f.UserFactory(username="kim.other", email="Kim@example.nhs.uk")

        class Comment:
            text = "Can @jo.director and @kim@example.nhs.uk look? Not @nobody."

        comment_posted.send(sender=None, comment=Comment(), record=programme, author=world["director"])
        kinds = {(n.user_id, n.kind, n.delivery) for n in Notification.objects.all()}
        assert kinds == {(other.pk, "mentioned", "immediate"), (world["staff"].pk, "comment", "digest")}


class TestNotificationsList:
    def test_unread_count_in_the_header_and_marking(self, client, world):
        for n in range(3):
            Notification.objects.create(
                user=world["staff"], kind="change", text=f"Change {n}", url="/", delivery="digest"
            )
        client.force_login(world["staff"])
        page = client.get("/notifications/").content.decode()
        assert "Notifications (3 unread)" in page and "Change 2" in page
        first = Notification.objects.order_by("pk").first()
        client.post("/notifications/mark/", {"id": first.pk})
        assert "Notifications (2 unread)" in client.get("/notifications/").content.decode()
        client.post("/notifications/mark/", {"id": first.pk, "read": "no"})
        client.post("/notifications/mark/", {"all": "yes"})
        assert not Notification.objects.filter(read__isnull=True).exists()
        assert client.post("/notifications/mark/", {"id": "x"}).status_code == 302

    def test_the_email_preference_by_signed_link_without_signing_in(self, client, world):
        token = notices.preference_token(world["staff"], "none")
        page = client.get(f"/notifications/email/{token}/")
        assert page.status_code == 200 and "Yes, change my emails" in page.content.decode()
        assert not Preference.objects.exists()  # opening the link changes nothing
        client.post(f"/notifications/email/{token}/")
        assert Preference.objects.get(user=world["staff"]).email == "none"
        assert client.post(f"/notifications/email/{token[:-2]}xx/").status_code == 404

    def test_the_preference_form_names_the_field(self, client, world):
        client.force_login(world["staff"])
        response = client.post("/notifications/settings/", {"email": "hourly"})
        assert response.status_code == 400 and 'href="#id_email' in response.content.decode()
        client.post("/notifications/settings/", {"email": "daily"})
        assert Preference.objects.get(user=world["staff"]).email == "daily"


class TestApi:
    def test_assign_state_watch_notifications_and_preference(self, world):
        finding = shares_finding(run())
        staff, director = api_for(world["staff"]), api_for(world["director"])
        bad = staff.post(f"/api/v1/findings/{finding.pk}/assign/", {"assignee": "nobody"}, format="json")
        assert bad.status_code == 400 and "assignee" in bad.json()
        made = staff.post(f"/api/v1/findings/{finding.pk}/assign/", {"assignee": "jo.director"}, format="json")
        assert made.status_code == 200 and made.json()["assignee"] == "jo.director"
        moved = director.post(f"/api/v1/findings/{finding.pk}/state/", {"state": "in_progress"}, format="json")
        assert moved.json()["state"] == "in_progress"
        no_reason = director.post(f"/api/v1/findings/{finding.pk}/state/", {"state": "not_a_problem"}, format="json")
        assert no_reason.status_code == 400 and "reason" in no_reason.json()
        listed = staff.get("/api/v1/notifications/?unread=true").json()
        assert [n["text"] for n in listed["results"]] == [
            "Jo Director marked in progress a finding: " + finding.message
        ]
        pk = listed["results"][0]["id"]
        assert staff.get("/api/v1/notifications/?unread=maybe").status_code == 400
        assert staff.post(f"/api/v1/notifications/{pk}/read/").json()["is_read"] is True
        assert staff.post(f"/api/v1/notifications/{pk}/unread/").json()["is_read"] is False
        assert staff.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
        assert director.get(f"/api/v1/notifications/{pk}/").status_code == 404  # only your own
        programme = f.ProgrammeFactory(bodies=[world["nhse"]])
        watched = staff.post("/api/v1/watches/", {"type": "programmes.programme", "id": programme.pk}, format="json")
        assert watched.status_code == 201
        assert (
            staff.post("/api/v1/watches/", {"type": "programmes.programme", "id": 0}, format="json").status_code == 400
        )
        assert {"type": "programmes.programme", "id": programme.pk} in [
            {"type": w["type"], "id": w["id"]} for w in staff.get("/api/v1/watches/").json()["results"]
        ]
        stop = staff.post("/api/v1/watches/stop/", {"type": "programmes.programme", "id": programme.pk}, format="json")
        assert stop.status_code == 204 and not notices.is_watching(world["staff"], programme)
        assert staff.get("/api/v1/notification-preference/").json() == {"email": "immediate"}
        assert staff.put("/api/v1/notification-preference/", {"email": "sometimes"}, format="json").status_code == 400
        assert staff.put("/api/v1/notification-preference/", {"email": "none"}, format="json").json() == {
            "email": "none"
        }


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response.content.decode()


class TestMyWork:
    def test_my_work_is_the_home_of_staff_and_the_work_of_directors(self, client, world):
        finding = shares_finding(run())
        due = timezone.localdate() - dt.timedelta(days=1)
        workflow.assign(finding, world["director"], None, world["staff"])
        FindingCase.objects.update(due_date=due)  # now overdue
        programme = f.ProgrammeFactory(bodies=[world["nhse"]], title="Winter")
        f.ExpectationFactory(
            programme=programme, issued_by=world["nhse"], due_date=timezone.localdate() + dt.timedelta(days=30)
        )
        f.ExpectationFactory(
            programme=programme, issued_by=world["nhse"], due_date=timezone.localdate() + dt.timedelta(days=200)
        )
        client.force_login(world["director"])
        assert client.get("/")["Location"] == "/regions/Y56/"  # a director's home: their region's dashboard
        page = client.get("/regions/Y56/").content.decode()
        assert "What needs you in London" in page and str(escape(finding.message)) in page and "Overdue" in page
        page = client.get("/my-work/").content.decode()
        assert "<h1>My work</h1>" in page and str(escape(finding.message)) in page and "Overdue" in page
        assert "Delivery of programmes in London" in page
        assert page.count(", Winter: due") == 1  # only the one due within 90 days
        client.force_login(world["staff"])
        page = client.get("/").content.decode()
        assert "<h1>My work</h1>" in page and "You gave it to Jo Director" in page and "1 overdue" in page
        admin = f.UserFactory(role="Administrator", bodies=[world["nhse"]])
        client.force_login(admin)
        assert "People who cannot sign in" in client.get("/").content.decode()

    def test_changes_since_the_last_visit(self, client, world):
        programme = f.ProgrammeFactory(bodies=[world["nhse"]], title="Winter")
        notices.watch(world["director"], programme)
        client.force_login(world["director"])
        client.get("/my-work/")
        programme.title = "Winter pressures"
        programme._history_user = world["staff"]
        programme.save()
        assert "Sam Staff changed programme Winter pressures" in client.get("/my-work/").content.decode()
        assert "Sam Staff changed programme" not in client.get("/my-work/").content.decode()  # seen now

    def test_saved_views_and_other_sections_come_through_the_registry(self, client, world):
        from markupsafe import Markup

        from nhs_joint.registry import registry

        registry.add_my_work_section("test-section", lambda request: Markup("<h2>Saved views of the test</h2>"), 50)
        try:
            client.force_login(world["staff"])
            assert "<h2>Saved views of the test</h2>" in client.get("/my-work/").content.decode()
        finally:
            registry.my_work_sections[:] = [s for s in registry.my_work_sections if s.name != "test-section"]

    def test_my_work_queries_do_not_grow_with_findings_or_watched_records(self, client, world, nhse, nhsi):
        run()
        finding = Finding.objects.get(rule="appointment-shares")
        workflow.assign(finding, world["director"], timezone.localdate(), world["staff"])
        programme = f.ProgrammeFactory(bodies=[nhse], title="P0")
        notices.watch(world["director"], programme)
        client.force_login(world["director"])
        few, page = count_queries(client, "/my-work/")
        for n in range(10):
            post = f.AppointmentFactory(title=f"Joint post {n}", start_date=dt.date(2019, 4, 1))
            f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=30)
            f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=30)
        report = run()
        for other in Finding.objects.filter(run=report, rule="appointment-shares"):
            workflow.assign(other, world["director"], timezone.localdate(), world["staff"])
        for n in range(10):
            watched = f.ProgrammeFactory(bodies=[nhse], title=f"P{n + 1}")
            notices.watch(world["director"], watched)
            watched._history_user = world["staff"]
            watched.save()
        f.ExpectationFactory(issued_by=nhse, programme=programme, due_date=timezone.localdate())
        many, page = count_queries(client, "/my-work/")
        assert page.count("Joint post") >= 10
        assert many == few

    @pytest.mark.usefixtures("render_every_time")
    def test_a_records_page_with_the_watch_panel_does_not_grow_with_watchers(self, client, world):
        programme = f.ProgrammeFactory(bodies=[world["nhse"]])
        client.force_login(world["staff"])
        few, _ = count_queries(client, programme.get_absolute_url())
        for _ in range(10):
            notices.watch(f.UserFactory(), programme)
        notices.watch(world["staff"], programme)
        many, page = count_queries(client, programme.get_absolute_url())
        assert ">Stop watching</button>" in page and many == few
