"""Nothing a person enters is lost: three-way merge on save, saves that change nothing, archive instead of delete."""

import datetime as dt
import re

import pytest
from rest_framework.test import APIClient

from appointments.models import Person
from measures.models import Measure
from programmes.models import Programme, Workstream
from reports.rules import Context, all_rules
from tests import factories as f

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


@pytest.fixture
def other(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Alex", last_name="Other")


@pytest.fixture
def admin(nhse):
    return f.UserFactory(role="Administrator", bodies=[nhse], first_name="Ada", last_name="Admin")


@pytest.fixture
def programme(nhse):
    return f.ProgrammeFactory(
        title="Cancer",
        slug="cancer",
        summary="Earlier diagnosis",
        theme="cancer",
        bodies=[nhse],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
        status="active",
    )


def opened_form(client, url):
    """The edit form as a browser would submit it unchanged: every field's value and the hidden ones."""
    return form_data(client.get(url).content.decode())


def form_data(html):
    """What a page's form would submit as it stands."""
    data = {}
    for match in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*>', html):
        tag = match.group(0)
        name = match.group(1)
        if 'type="checkbox"' in tag or 'type="radio"' in tag:
            if "checked" in tag:
                data.setdefault(name, []).append(re.search(r'value="([^"]*)"', tag).group(1))
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name] = value.group(1).replace("&#39;", "'").replace("&amp;", "&") if value else ""
    for match in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[match.group(1)] = match.group(2).strip()
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(2))
        data[match.group(1)] = chosen.group(1) if chosen else ""
    data.pop("csrfmiddlewaretoken", None)
    return data


def signed_in(client, user):
    client.force_login(user)
    return client


def two_editors(client, me, other, url, **their_changes):
    """Both open the edit form; the other person saves their changes first. Returns my form as opened."""
    from django.test import Client

    mine = opened_form(signed_in(client, me), url)
    theirs_client = signed_in(Client(), other)
    theirs = opened_form(theirs_client, url)
    theirs.update(their_changes or {"theme": "quality"})
    assert theirs_client.post(url, theirs).status_code == 302
    return mine


class TestThreeWayMerge:
    def test_a_stale_save_keeps_the_other_persons_change_to_fields_it_did_not_touch(
        self, client, staff, other, programme
    ):
        url = f"/programmes/{programme.slug}/edit/"
        mine = two_editors(client, staff, other, url)

        mine["summary"] = "Earlier diagnosis and faster treatment"
        response = client.post(url, mine)
        assert response.status_code == 302
        programme.refresh_from_db()
        assert (programme.theme, programme.summary) == ("quality", "Earlier diagnosis and faster treatment")
        # My save changed only the summary: history shows no theme change by me.
        latest = programme.history.order_by("-history_id").first()
        changed = {c.field for c in latest.diff_against(latest.prev_record).changes}
        assert changed == {"summary"} and latest.history_user == staff

    def test_both_changing_one_field_asks_which_to_keep_and_writes_nothing_until_chosen(
        self, client, staff, other, programme
    ):
        url = f"/programmes/{programme.slug}/edit/"
        mine = two_editors(client, staff, other, url)
        history_rows = programme.history.count()

        mine["theme"] = "improvement"
        mine["summary"] = "My summary"
        response = client.post(url, mine)
        html = response.content.decode()
        assert response.status_code == 409
        assert "Which theme should be saved?" in html
        assert "“Improvement”" in html and "“Quality”" in html  # the themes by name, not their codes
        assert programme.history.count() == history_rows  # nothing written
        programme.refresh_from_db()
        assert (programme.theme, programme.summary) == ("quality", "Earlier diagnosis")

        again = form_data(html)
        again.update(theme="improvement", summary="My summary")
        # Sent back without a choice: asked again, still nothing written.
        response = client.post(url, again)
        assert response.status_code == 409 and "Select which theme to keep." in response.content.decode()
        assert programme.history.count() == history_rows

        again["_keep_theme"] = "theirs"
        assert client.post(url, again).status_code == 302
        programme.refresh_from_db()
        assert (programme.theme, programme.summary) == ("quality", "My summary")

    def test_choosing_your_own_value_saves_it(self, client, staff, other, programme):
        url = f"/programmes/{programme.slug}/edit/"
        mine = two_editors(client, staff, other, url)
        mine["theme"] = "improvement"
        again = form_data(client.post(url, mine).content.decode())
        again.update(theme="improvement", _keep_theme="mine")
        assert client.post(url, again).status_code == 302
        programme.refresh_from_db()
        assert programme.theme == "improvement"

    def test_a_save_that_changes_nothing_writes_nothing_and_blocks_nobody(self, client, staff, other, programme):
        from django.test import Client

        url = f"/programmes/{programme.slug}/edit/"
        theirs_client = signed_in(Client(), other)
        theirs = opened_form(theirs_client, url)  # opened before my no-change save
        mine = opened_form(signed_in(client, staff), url)
        history_rows, version = programme.history.count(), programme.version
        response = client.post(url, mine, follow=True)
        assert "Nothing changed" in response.content.decode()
        programme.refresh_from_db()
        assert programme.history.count() == history_rows and programme.version == version
        theirs["title"] = "Cancer programme"
        assert theirs_client.post(url, theirs).status_code == 302  # no "someone changed this record"
        programme.refresh_from_db()
        assert programme.title == "Cancer programme"

    def test_a_forged_original_is_not_trusted(self, client, staff, other, programme):
        url = f"/programmes/{programme.slug}/edit/"
        mine = two_editors(client, staff, other, url)
        mine["_original"] = "forged"
        response = client.post(url, mine)
        # Without the values it was opened with, a difference on a changed record must be chosen.
        assert response.status_code == 409 and "Which theme should be saved?" in response.content.decode()
        programme.refresh_from_db()
        assert programme.theme == "quality"

    def test_shares_of_an_appointment_merge_like_any_field(self, client, staff, other, nhse, nhsi):
        appointment = f.AppointmentFactory(title="Director of Finance", role="other", start_date=dt.date(2019, 4, 1))
        f.AppointmentShareFactory(appointment=appointment, body=nhse, fte_percent=100)
        url = f"/appointments/{appointment.pk}/edit/"
        mine = two_editors(client, staff, other, url, title="Chief Finance Officer")
        mine["end_date-day"], mine["end_date-month"], mine["end_date-year"] = "31", "3", "2021"
        assert client.post(url, mine).status_code == 302
        appointment.refresh_from_db()
        assert appointment.title == "Chief Finance Officer" and appointment.end_date == dt.date(2021, 3, 31)
        assert [(s.body.code, s.fte_percent) for s in appointment.shares.all()] == [("NHSE", 100)]


def api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestApiEdits:
    def test_a_patch_of_unchanged_values_writes_no_history(self, staff, programme):
        api = api_client(staff)
        record = api.get(f"/api/v1/programmes/{programme.slug}/").json()
        rows, version = programme.history.count(), programme.version
        body = {k: record[k] for k in ("title", "summary", "theme", "bodies", "status", "start_date")}
        response = api.patch(f"/api/v1/programmes/{programme.slug}/", body, format="json")
        assert response.status_code == 200
        programme.refresh_from_db()
        assert programme.history.count() == rows and programme.version == version
        response = api.patch(f"/api/v1/programmes/{programme.slug}/", {"theme": "quality"}, format="json")
        assert response.status_code == 200 and programme.history.count() == rows + 1

    def test_a_stale_if_match_is_still_refused(self, staff, other, programme):
        api, theirs = api_client(staff), api_client(other)
        etag = api.get(f"/api/v1/programmes/{programme.slug}/")["ETag"]
        theirs.patch(f"/api/v1/programmes/{programme.slug}/", {"theme": "quality"}, format="json")
        response = api.patch(
            f"/api/v1/programmes/{programme.slug}/", {"summary": "Mine"}, format="json", HTTP_IF_MATCH=etag
        )
        assert response.status_code == 412
        programme.refresh_from_db()
        assert (programme.theme, programme.summary) == ("quality", "Earlier diagnosis")


class TestArchive:
    def test_archive_hides_from_lists_keeps_the_page_and_restores(self, client, staff, programme, nhse):
        f.WorkstreamFactory(programme=programme, body=nhse, title="Faster diagnosis standard")
        signed_in(client, staff)
        assert "Archive it" in client.get(f"/programmes/{programme.slug}/archive/").content.decode()
        assert client.post(f"/programmes/{programme.slug}/archive/").status_code == 302
        assert 'href="/programmes/cancer/"' not in client.get("/programmes/").content.decode()
        assert "Faster diagnosis standard" not in client.get("/workstreams/").content.decode()
        archived_list = client.get("/programmes/?archived=yes").content.decode()
        assert "Archived programmes" in archived_list and 'href="/programmes/cancer/"' in archived_list
        page = client.get(f"/programmes/{programme.slug}/").content.decode()
        assert "This programme was archived on" in page and "Restore this programme" in page
        assert client.get(f"/programmes/{programme.slug}/edit/").status_code == 403
        assert client.post(f"/programmes/{programme.slug}/restore/").status_code == 302
        assert 'href="/programmes/cancer/"' in client.get("/programmes/").content.decode()
        assert "Faster diagnosis standard" in client.get("/workstreams/").content.decode()
        kinds = [h.archived_at is not None for h in programme.history.order_by("history_id")]
        assert kinds[-2:] == [True, False]  # archived, then restored: both in its history

    def test_staff_cannot_delete_for_good_and_administrators_only_what_stands_alone(
        self, client, staff, admin, programme, nhse
    ):
        f.WorkstreamFactory(programme=programme, body=nhse)
        signed_in(client, staff)
        assert client.get(f"/programmes/{programme.slug}/delete/").status_code == 403
        assert client.post(f"/programmes/{programme.slug}/delete/").status_code == 403
        signed_in(client, admin)
        response = client.post(f"/programmes/{programme.slug}/delete/")
        assert response.status_code == 409 and "Workstreams: 1" in response.content.decode()
        assert Programme.all_objects.filter(pk=programme.pk).exists()
        lonely = f.MeasureFactory(code="lonely", name="A measure nobody uses")
        assert client.post(f"/measures/{lonely.code}/delete/").status_code == 302
        assert not Measure.all_objects.filter(pk=lonely.pk).exists()
        deleted = Measure.history.get(id=lonely.pk, history_type="-")
        assert deleted.history_user == admin  # recorded

    def test_the_reports_ignore_archived_records(self, nhse, programme):
        measure = f.MeasureFactory(code="ae-4hr")
        other = f.ProgrammeFactory(slug="uec", bodies=[nhse], accountable_body=nhse)
        later = dt.date.today() + dt.timedelta(days=365)
        for owner, target in ((programme, 95), (other, 90)):
            f.ExpectationFactory(
                programme=owner,
                issued_by=nhse,
                audience="providers",
                measure=measure,
                comparator=">=",
                target=target,
                start_date=dt.date(2018, 4, 1),
                due_date=later,
                region=None,
            )

        def conflicts():
            return list(all_rules()["expectation-conflict"].check(Context()))

        assert len(conflicts()) == 1
        other.archive()
        assert conflicts() == []  # the archived programme's expectation is not asked of anyone
        other.restore()
        expectation = other.expectations.get()
        expectation.archive()
        assert conflicts() == []

    def test_a_new_record_may_not_take_an_archived_ones_email(self, client, staff):
        person = Person.objects.create(name="Jo Bloggs", email="jo.bloggs@example.nhs.uk")
        person.archive()
        signed_in(client, staff)
        response = client.post("/people/new/", {"name": "Jo Bloggs", "email": "jo.bloggs@example.nhs.uk"})
        assert response.status_code == 400
        assert Person.all_objects.filter(email="jo.bloggs@example.nhs.uk").count() == 1


class TestApiArchive:
    def test_delete_archives_and_restore_brings_back(self, staff, admin, programme, nhse):
        f.WorkstreamFactory(programme=programme, body=nhse)
        api = api_client(staff)
        assert api.delete(f"/api/v1/programmes/{programme.slug}/").status_code == 204
        assert programme.slug not in [p["slug"] for p in api.get("/api/v1/programmes/").json()["results"]]
        assert Workstream.objects.count() == 0 and Workstream.all_objects.count() == 1
        record = api.get(f"/api/v1/programmes/{programme.slug}/").json()
        assert record["archived_at"] is not None
        listed = api.get("/api/v1/programmes/?archived=true").json()["results"]
        assert [p["slug"] for p in listed] == [programme.slug]
        assert api.delete(f"/api/v1/programmes/{programme.slug}/?permanently=true").status_code == 403
        response = api_client(admin).delete(f"/api/v1/programmes/{programme.slug}/?permanently=true")
        assert response.status_code in (403, 409)  # an administrator of another body, or something hangs off it
        assert Programme.all_objects.filter(pk=programme.pk).exists()
        restored = api.post(f"/api/v1/programmes/{programme.slug}/restore/")
        assert restored.status_code == 200 and restored.json()["archived_at"] is None
        assert Workstream.objects.count() == 1


def test_a_form_refused_shows_the_stored_record_in_its_heading_not_the_unsaved_values(client, staff, programme):
    url = f"/programmes/{programme.slug}/edit/"
    client.force_login(staff)
    mine = opened_form(client, url)
    mine.update(title="Renamed but not saved", **{"end_date-day": "1", "end_date-month": "1", "end_date-year": "2017"})
    response = client.post(url, mine)
    html = response.content.decode()
    assert response.status_code == 400
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert "Cancer" in heading and "Renamed" not in heading
    assert "<title>Error: Edit programme: Cancer – " in html
    assert 'value="Renamed but not saved"' in html  # what was entered is kept in the form
