"""The portal's pages: sign-in, permissions, forms and their errors, concurrent edits, deletion, history."""

import datetime as dt
import re

import pytest

from appointments.models import Appointment, AppointmentShare
from programmes.models import BoardApproval, Programme, RegionalDelivery
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


@pytest.fixture
def programme(nhse, nhsi):
    return f.ProgrammeFactory(
        title="Winter resilience",
        slug="winter-resilience",
        bodies=[nhse],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
    )


def programme_post(programme, **changes):
    data = {
        "title": programme.title,
        "summary": "",
        "description": "",
        "theme": "",
        "bodies": [b.pk for b in programme.bodies.all()],
        "integration_stage": programme.integration_stage,
        "accountable_body": programme.accountable_body_id or "",
        "duty": "",
        "status": programme.status,
        "start_date-day": programme.start_date.day,
        "start_date-month": programme.start_date.month,
        "start_date-year": programme.start_date.year,
        "senior_responsible_owner": "",
        "_version": str(programme.history.latest().history_id),
    }
    data.update(changes)
    return data


class TestSignIn:
    def test_anonymous_visitor_is_sent_to_sign_in_and_back(self, client, programme):
        response = client.get("/programmes/?status=active")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/programmes/%3Fstatus%3Dactive"

    def test_sign_in_returns_to_the_page_asked_for(self, client, staff):
        response = client.post(
            "/accounts/login/",
            {"username": staff.username, "password": "correct horse battery staple", "next": "/programmes/"},
        )
        assert response.status_code == 302 and response["Location"] == "/programmes/"

    def test_wrong_password_shows_error_summary(self, client, staff):
        response = client.post("/accounts/login/", {"username": staff.username, "password": "wrong"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in html and "nhsuk-error-summary" in html
        assert "<title>Error: Sign in" in html

    def test_sign_out_needs_a_post(self, client, staff):
        client.force_login(staff)
        assert client.get("/accounts/logout/").status_code == 200
        assert client.get("/programmes/").status_code == 200
        client.post("/accounts/logout/")
        assert client.get("/programmes/").status_code == 302

    def test_health_check_needs_no_sign_in(self, client):
        assert client.get("/healthz").status_code == 200


class TestEditing:
    def test_end_before_start_is_shown_by_the_field_and_input_kept(self, client, staff, programme):
        client.force_login(staff)
        data = programme_post(
            programme,
            title="Winter resilience 2019",
            **{"end_date-day": "31", "end_date-month": "3", "end_date-year": "2018"},
        )
        response = client.post(f"/programmes/{programme.slug}/edit/", data)
        html = response.content.decode()
        assert response.status_code == 400
        assert 'href="#id_end_date-day"' in html
        assert "The end date must be the same as or after the start date (1 April 2018)." in html
        assert 'value="Winter resilience 2019"' in html  # the user's input is kept
        programme.refresh_from_db()
        assert programme.title == "Winter resilience" and programme.end_date is None

    def test_valid_edit_saves_and_records_history(self, client, staff, programme):
        client.force_login(staff)
        response = client.post(f"/programmes/{programme.slug}/edit/", programme_post(programme, title="Winter plan"))
        assert response.status_code == 302
        programme.refresh_from_db()
        assert programme.title == "Winter plan" and programme.version == 2
        history = client.get(f"/programmes/{programme.slug}/history/").content.decode()
        assert "Sam Staff" in history
        assert "from “Winter resilience” to “Winter plan”" in history

    def test_incomplete_and_impossible_dates_name_the_field(self, client, staff, programme):
        client.force_login(staff)
        data = programme_post(programme, **{"start_date-day": "31", "start_date-month": "2", "start_date-year": "2019"})
        html = client.post(f"/programmes/{programme.slug}/edit/", data).content.decode()
        assert "The start date must be a real date" in html
        data = programme_post(programme, **{"start_date-day": "", "start_date-month": "2", "start_date-year": "2019"})
        html = client.post(f"/programmes/{programme.slug}/edit/", data).content.decode()
        assert "The start date must include a day." in html

    def test_second_save_from_a_stale_form_is_refused_and_shows_what_changed(self, client, staff, programme):
        client.force_login(staff)
        stale = programme_post(programme, title="Second editor's title")
        first = programme_post(programme, title="First editor's title")
        assert client.post(f"/programmes/{programme.slug}/edit/", first).status_code == 302
        response = client.post(f"/programmes/{programme.slug}/edit/", stale)
        html = response.content.decode()
        assert response.status_code == 409
        assert "Someone else changed this programme" in html
        assert "from “Winter resilience” to “First editor&#39;s title”" in html
        assert 'value="Second editor&#39;s title"' in html
        programme.refresh_from_db()
        assert programme.title == "First editor's title"
        # Saving again after review replaces the other change knowingly.
        version = re.search(r'name="_version" value="(\d+)"', html).group(1)
        again = {**stale, "_version": version}
        assert client.post(f"/programmes/{programme.slug}/edit/", again).status_code == 302
        programme.refresh_from_db()
        assert programme.title == "Second editor's title"

    def test_accountable_body_must_run_the_programme(self, client, staff, programme, nhsi):
        client.force_login(staff)
        data = programme_post(programme, accountable_body=nhsi.pk)
        html = client.post(f"/programmes/{programme.slug}/edit/", data).content.decode()
        assert "NHSI does not run this programme" in html

    def test_create_programme_gets_a_slug(self, client, staff, nhse):
        client.force_login(staff)
        data = {
            "title": "Frailty at the front door",
            "bodies": [nhse.pk],
            "integration_stage": "separate",
            "accountable_body": nhse.pk,
            "status": "proposed",
            "start_date-day": "1",
            "start_date-month": "10",
            "start_date-year": "2018",
        }
        response = client.post("/programmes/new/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == "/programmes/frailty-at-the-front-door/"

    def test_staff_cannot_create_for_a_body_they_do_not_work_for(self, client, staff, nhsi):
        client.force_login(staff)
        data = {
            "title": "NHSI only",
            "bodies": [nhsi.pk],
            "integration_stage": "separate",
            "status": "proposed",
            "start_date-day": "1",
            "start_date-month": "10",
            "start_date-year": "2018",
        }
        html = client.post("/programmes/new/", data).content.decode()
        assert "You can only create records for a body you work for" in html
        assert not Programme.objects.filter(title="NHSI only").exists()


class TestPermissions:
    def test_staff_of_the_other_body_get_403_saying_why(self, client, nhsi, programme):
        other = f.UserFactory(role="Staff", bodies=[nhsi])
        client.force_login(other)
        for url in (f"/programmes/{programme.slug}/edit/", f"/programmes/{programme.slug}/archive/"):
            response = client.get(url)
            assert response.status_code == 403
            assert "Only staff of NHS England can change this programme" in response.content.decode()
        response = client.post(f"/programmes/{programme.slug}/edit/", programme_post(programme, title="Hijack"))
        assert response.status_code == 403
        programme.refresh_from_db()
        assert programme.title == "Winter resilience"

    def test_joint_programme_is_editable_by_either_body(self, client, nhse, nhsi):
        joint = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse)
        client.force_login(f.UserFactory(role="Staff", bodies=[nhsi]))
        assert client.get(f"/programmes/{joint.slug}/edit/").status_code == 200
        # Staff of NHS Improvement save it, and it reads back changed.
        response = client.post(f"/programmes/{joint.slug}/edit/", programme_post(joint, title="Winter, jointly"))
        assert response.status_code == 302, response.content.decode()[:2000]
        joint.refresh_from_db()
        assert joint.title == "Winter, jointly"
        assert "Winter, jointly" in client.get(response["Location"]).content.decode()

    def test_user_without_an_editing_role_cannot_edit(self, client, nhse, programme):
        client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
        assert client.get(f"/programmes/{programme.slug}/edit/").status_code == 403
        assert "Add a programme" not in client.get("/programmes/").content.decode()

    def test_regional_delivery_edits_only_by_that_regions_director(self, client, nhse, programme, staff):
        london, midlands = f.RegionFactory(name="London"), f.RegionFactory(name="Midlands")
        delivery = f.RegionalDeliveryFactory(programme=programme, region=london)
        url = f"/regional-deliveries/{delivery.pk}/edit/"
        data = {
            "rag": "amber",
            "note": "Pressure on beds",
            "lead": "",
            "_version": delivery.history.latest().history_id,
        }

        client.force_login(staff)
        response = client.post(url, data)
        assert response.status_code == 403
        assert "Only the Regional director" in response.content.decode()

        client.force_login(f.UserFactory(role="Regional director", bodies=[nhse], region=midlands))
        assert client.post(url, data).status_code == 403

        client.force_login(f.UserFactory(role="Regional director", bodies=[nhse], region=london))
        assert client.post(url, data).status_code == 302
        delivery.refresh_from_db()
        assert delivery.rag == RegionalDelivery.Rag.AMBER

    def test_user_management_is_for_administrators_only(self, client, staff):
        client.force_login(staff)
        for url in ("/users/", "/users/new/", f"/users/{staff.pk}/", f"/users/{staff.pk}/deactivate/"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "Only Administrators can manage users." in response.content.decode()
        assert client.post(f"/users/{staff.pk}/deactivate/").status_code == 403
        staff.refresh_from_db()
        assert staff.is_active


class TestAppointments:
    def appointment_post(self, person, region=None, **shares):
        data = {
            "person": person.pk,
            "title": "Regional Director",
            "role": "regional_director",
            "region": region.pk if region else "",
            "programme": "",
            "start_date-day": "1",
            "start_date-month": "4",
            "start_date-year": "2019",
        }
        data.update({f"share_{code}": pct for code, pct in shares.items()})
        return data

    def test_joint_appointment_with_shares_totalling_100(self, client, staff, nhsi):
        client.force_login(staff)
        region = f.RegionFactory()
        response = client.post(
            "/appointments/new/", self.appointment_post(f.PersonFactory(), region, nhse="50", nhsi="50")
        )
        assert response.status_code == 302
        appointment = Appointment.objects.get()
        assert appointment.is_joint
        assert sorted(s.fte_percent for s in appointment.shares.all()) == [50, 50]

    def test_shares_not_totalling_100_write_nothing(self, client, staff, nhsi):
        client.force_login(staff)
        response = client.post(
            "/appointments/new/", self.appointment_post(f.PersonFactory(), f.RegionFactory(), nhse="50", nhsi="40")
        )
        assert response.status_code == 400
        assert "must total 100% (these total 90%)" in response.content.decode()
        assert not Appointment.objects.exists() and not AppointmentShare.objects.exists()

    def test_overlapping_regional_director_is_a_form_error_not_a_500(self, client, staff, nhsi):
        client.force_login(staff)
        region = f.RegionFactory()
        assert (
            client.post("/appointments/new/", self.appointment_post(f.PersonFactory(), region, nhse="100")).status_code
            == 302
        )
        response = client.post("/appointments/new/", self.appointment_post(f.PersonFactory(), region, nhse="100"))
        assert response.status_code == 400
        assert "already has a Regional Director for some of these dates" in response.content.decode()
        assert Appointment.objects.count() == 1


class TestDeleteAndHistory:
    def test_staff_archive_and_an_administrator_sees_what_stops_a_deletion(self, client, staff, programme, nhse):
        f.WorkstreamFactory(programme=programme, body=nhse)
        f.WorkstreamFactory(programme=programme, body=nhse)
        client.force_login(staff)
        html = client.get(f"/programmes/{programme.slug}/").content.decode()
        assert "Archive" in html and "Delete for good" not in html
        assert "Nothing is deleted" in client.get(f"/programmes/{programme.slug}/archive/").content.decode()
        refused = client.post(f"/programmes/{programme.slug}/delete/")
        assert refused.status_code == 403 and "Only an Administrator" in refused.content.decode()
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin)
        html = client.get(f"/programmes/{programme.slug}/delete/").content.decode()
        assert "cannot be deleted" in html and "Workstreams: 2" in html
        assert client.post(f"/programmes/{programme.slug}/delete/").status_code == 409
        assert Programme.all_objects.filter(pk=programme.pk).exists()

    def test_delete_refused_when_other_records_depend_on_it(self, client, nhse):
        measure = f.MeasureFactory()
        f.ExpectationFactory(measure=measure, issued_by=nhse)
        client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
        response = client.post(f"/measures/{measure.code}/delete/")
        assert response.status_code == 409
        assert "cannot be deleted" in response.content.decode()

    def test_a_record_nothing_depends_on_is_deleted_by_its_editors(self, client, staff, programme, nhse):
        approval = f.BoardApprovalFactory(programme=programme, body=nhse)
        client.force_login(staff)
        assert client.post(f"/board-approvals/{approval.pk}/delete/").status_code == 302
        assert BoardApproval.history.filter(id=approval.pk, history_type="-", history_user=staff).exists()


class TestLists:
    def test_search_filter_and_sort(self, client, staff, nhse, nhsi):
        f.ProgrammeFactory(title="Commissioning for quality", bodies=[nhse], status="active")
        f.ProgrammeFactory(title="Provider licensing", bodies=[nhsi], status="active")
        f.ProgrammeFactory(title="Quality of commissioned services", bodies=[nhse], status="closed")
        client.force_login(staff)
        html = client.get("/programmes/?q=commissioning").content.decode()
        assert "Commissioning for quality" in html and "Quality of commissioned services" in html  # stemmed
        assert "Provider licensing" not in html
        html = client.get("/programmes/?q=commissioning&status=active").content.decode()
        assert "Commissioning for quality" in html and "Quality of commissioned services" not in html
        html = client.get("/programmes/?body=NHSI").content.decode()
        assert "Provider licensing" in html and "Commissioning for quality" not in html
        html = client.get("/programmes/?ordering=-title").content.decode()
        assert html.index("Provider licensing") < html.index("Commissioning for quality")
        assert 'aria-sort="descending"' in html

    def test_bad_filter_value_is_a_message_not_a_500(self, client, staff):
        client.force_login(staff)
        response = client.get("/programmes/?body=NOPE&status=unknown")
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()

    def test_unknown_record_is_a_404_page(self, client, staff):
        client.force_login(staff)
        response = client.get("/programmes/no-such-programme/")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


class TestUserManagement:
    def test_administrator_creates_a_regional_director_with_a_one_time_password(self, client, nhse, nhsi):
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        region = f.RegionFactory(name="East of England")
        client.force_login(admin)
        data = {
            "username": "jo.director",
            "first_name": "Jo",
            "last_name": "Director",
            "email": "jo@example.nhs.uk",
            "bodies": [nhse.pk, nhsi.pk],
            "region": region.pk,
            "role": "Regional director",
        }
        response = client.post("/users/new/", data)
        assert response.status_code == 302
        from accounts.models import User

        jo = User.objects.get(username="jo.director")
        assert jo.roles == {"Regional director"} and not jo.has_usable_password()
        html = client.post(f"/users/{jo.pk}/one-time-password/").content.decode()
        password = re.search(r'id="one-time-password"[^>]*>([^<]+)<', html).group(1)
        client.logout()
        assert client.login(username="jo.director", password=password)
        # The one-time password must be changed before anything else.
        assert client.get("/programmes/")["Location"] == "/accounts/password/?first=1"
        response = client.post(
            "/accounts/password/",
            {
                "old_password": password,
                "new_password1": "a-new-secret-for-jo-2019",
                "new_password2": "a-new-secret-for-jo-2019",
            },
        )
        assert response.status_code == 302
        response = client.get("/")  # a Regional director's home is their region's dashboard
        assert response.status_code == 302 and response["Location"] == f"/regions/{region.ods_code}/"
        page = client.get(response["Location"]).content.decode()
        assert f"<h1>{region}</h1>" in page and f"What needs you in {region}" in page

    def test_regional_director_needs_a_region(self, client, nhse):
        client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
        data = {"username": "no.region", "email": "n@example.nhs.uk", "bodies": [nhse.pk], "role": "Regional director"}
        response = client.post("/users/new/", data)
        assert response.status_code == 400
        assert "A Regional director needs a region." in response.content.decode()

    def test_deactivate_keeps_the_user_and_records_it(self, client, nhse, staff):
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin)
        client.post(f"/users/{staff.pk}/deactivate/")
        staff.refresh_from_db()
        assert not staff.is_active
        assert staff.history.latest().history_change_reason == "Deactivated"
        assert staff.history.latest().history_user == admin
        assert not client.login(username=staff.username, password="correct horse battery staple")

    def test_role_change_is_recorded(self, client, nhse, staff):
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin)
        data = {
            "username": staff.username,
            "email": staff.email,
            "bodies": [nhse.pk],
            "role": "Administrator",
            "_version": staff.history.latest().history_id,
        }
        assert client.post(f"/users/{staff.pk}/edit/", data).status_code == 302
        assert set(staff.groups.values_list("name", flat=True)) == {"Administrator"}
        html = client.get(f"/users/{staff.pk}/history/").content.decode()
        assert "Groups" in html
