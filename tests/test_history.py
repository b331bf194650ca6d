"""History in words: the history pages and the API read as people write, not as the database stores."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from measures.models import Measure
from nhs_joint import history
from programmes.models import Programme
from tests import factories as f

pytestmark = pytest.mark.django_db

OLD_DESCRIPTION = (
    "Urgent and emergency care services across England will be planned together for winter, with one set of "
    "expectations for providers and commissioners, agreed by both bodies."
)
NEW_DESCRIPTION = (
    "Urgent and emergency care services across England will be planned together all year, with one set of "
    "expectations for providers and commissioners, agreed by both bodies."
)


@pytest.fixture
def staff(nhse, nhsi):
    return f.UserFactory(role="Staff", bodies=[nhse, nhsi], first_name="Sam", last_name="Staff")


@pytest.fixture
def programme(nhse):
    return f.ProgrammeFactory(
        title="Winter resilience",
        slug="winter-resilience",
        bodies=[nhse],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
        status="proposed",
        description=OLD_DESCRIPTION,
    )


def form_data(programme, **changes):
    data = {
        "title": programme.title,
        "summary": programme.summary,
        "description": programme.description,
        "theme": programme.theme,
        "bodies": [b.pk for b in programme.bodies.all()],
        "integration_stage": programme.integration_stage,
        "accountable_body": programme.accountable_body_id or "",
        "duty": programme.duty_id or "",
        "status": programme.status,
        "start_date-day": programme.start_date.day,
        "start_date-month": programme.start_date.month,
        "start_date-year": programme.start_date.year,
        "senior_responsible_owner": programme.senior_responsible_owner_id or "",
        "_version": str(programme.history.latest().history_id),
    }
    if programme.end_date:
        data.update(
            {
                "end_date-day": programme.end_date.day,
                "end_date-month": programme.end_date.month,
                "end_date-year": programme.end_date.year,
            }
        )
    data.update(changes)
    return data


def text_of(html):
    """The page's text as a person reads it (tags dropped, spaces collapsed)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def history_cell_text(html):
    body = html.split("<tbody", 1)[1].split(">", 1)[1].split("</tbody>", 1)[0]
    return text_of(body)


class TestHistoryPageInWords:
    def test_every_kind_of_field_reads_in_words(self, client, staff, programme, nhse, nhsi):
        director = f.AppointmentFactory(
            person=f.PersonFactory(name="Alex Jones"), title="Director of urgent care", role="programme_director"
        )
        duty = f.StatutoryDutyFactory(body=nhsi, title="Oversight of NHS trusts")
        client.force_login(staff)
        response = client.post(
            f"/programmes/{programme.slug}/edit/",
            form_data(
                programme,
                title="Winter and summer resilience",
                description=NEW_DESCRIPTION,
                status="approved",
                integration_stage="one_team",
                bodies=[nhsi.pk],
                accountable_body=nhsi.pk,
                duty=duty.pk,
                senior_responsible_owner=director.pk,
                **{"end_date-day": "31", "end_date-month": "3", "end_date-year": "2020"},
            ),
        )
        assert response.status_code == 302, response.content.decode()[:3000]

        html = client.get(f"/programmes/{programme.slug}/history/").content.decode()
        text = history_cell_text(html)
        # Short text, choices by label, foreign keys by name, dates in words.
        assert "Title: from “Winter resilience” to “Winter and summer resilience”" in text
        assert "Status: from “Proposed” to “Approved”" in text
        assert "Integration stage: from “Separate” to “One team”" in text
        assert "Accountable body: from “NHS England” to “NHS Improvement”" in text
        assert "Statutory duty: set to “Oversight of NHS trusts (NHSI)”" in text
        assert "Senior responsible owner: set to “Alex Jones: Director of urgent care”" in text, text
        assert "End date: set to “31 March 2020”" in text
        # Many-to-many as added and removed, by name.
        assert "Bodies: added NHS Improvement; removed NHS England" in text
        # One save is one entry, though the bodies were set in steps after the fields.
        assert text.count("Sam Staff") == 1
        # No stored values and no raw ids.
        assert "approved”" not in text and "one_team" not in text and "(none)" not in text
        assert f"“{director.pk}”" not in text and "2020-03-31" not in text
        # Related records are linked to their pages.
        assert f'href="/appointments/{director.pk}/"' in html
        # The long text: only the changed words are marked, with words for those who cannot see the marks.
        assert "Description: changed" in text
        diff = html.split('<p class="portal-diff">', 1)[1].split("</p>", 1)[0]
        assert re.search(r"<del[^>]*><span class=\"nhsuk-u-visually-hidden\">\[removed: </span>for winter", diff)
        assert re.search(r"<ins[^>]*><span class=\"nhsuk-u-visually-hidden\">\[added: </span>all year", diff)
        assert "[removed: for winter,]" in text_of(diff) and "[added: all year,]" in text_of(diff)
        assert diff.count("<ins") == 1 and diff.count("<del") == 1
        # The long text is not repeated whole: far-off unchanged words are left out.
        assert "agreed by both bodies" not in text_of(diff)
        assert "…" in diff

    def test_a_creation_is_one_entry_with_the_lists_it_was_given(self, client, staff, nhse, nhsi):
        client.force_login(staff)
        data = {
            "title": "Frailty at the front door",
            "bodies": [nhse.pk, nhsi.pk],
            "integration_stage": "separate",
            "accountable_body": nhse.pk,
            "status": "proposed",
            "start_date-day": "1",
            "start_date-month": "10",
            "start_date-year": "2018",
        }
        assert client.post("/programmes/new/", data).status_code == 302
        programme = Programme.objects.get(title="Frailty at the front door")
        assert programme.history.count() > 1  # the creation, then the bodies' step
        text = history_cell_text(client.get(f"/programmes/{programme.slug}/history/").content.decode())
        assert text.endswith("Sam Staff Created Bodies: added NHS England and NHS Improvement")
        assert "Changed" not in text
        # The API keeps each version.
        api = TestHistoryInTheApi().client_for(staff).get(f"/api/v1/programmes/{programme.slug}/history/").json()
        assert [e["kind"] for e in api["results"]] == ["changed", "created"]

    def test_when_and_who(self, client, staff, programme):
        client.force_login(staff)
        client.post(f"/programmes/{programme.slug}/edit/", form_data(programme, title="Renamed"))
        entry = programme.history.order_by("-history_id").first()
        html = client.get(f"/programmes/{programme.slug}/history/").content.decode()
        assert history.format_datetime(entry.history_date) in text_of(html)
        assert re.search(r"\d{1,2} \w+ \d{4} at (\d{1,2}(:\d\d)?[ap]m|midday|midnight)", text_of(html))
        assert "Sam Staff" in text_of(html)
        assert "Created" in text_of(html)

    def test_text_is_escaped_everywhere(self, client, staff, programme):
        client.force_login(staff)
        evil = "<script>alert(1)</script> " + OLD_DESCRIPTION
        client.post(
            f"/programmes/{programme.slug}/edit/",
            form_data(programme, title="<b>Bold</b> winter", description=evil),
        )
        html = client.get(f"/programmes/{programme.slug}/history/").content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "<b>Bold</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;b&gt;Bold&lt;/b&gt; winter" in html

    def test_deleted_entry(self, client, staff, programme):
        programme_pk = programme.pk
        entries = history.history_entries(programme)
        assert [e["kind"] for e in entries][-1] == "created"
        programme.delete()
        record = Programme.history.filter(id=programme_pk).order_by("-history_id").first()
        assert history.describe(record, None, Programme)["kind"] == "deleted"

    def test_query_count_does_not_grow_with_the_entries(self, client, staff, nhse, nhsi):
        def make(changes):
            programme = f.ProgrammeFactory(bodies=[nhse], accountable_body=nhse, description=OLD_DESCRIPTION)
            people = [f.AppointmentFactory(title=f"Post {i}") for i in range(changes)]
            for i in range(changes):
                programme.refresh_from_db()
                programme.status = ["approved", "active"][i % 2]
                programme.senior_responsible_owner = people[i]
                programme.description = OLD_DESCRIPTION + f" Change {i}."
                programme.end_date = dt.date(2020, 1, 1) + dt.timedelta(days=i)
                programme.save()
                programme.bodies.set([nhsi] if i % 2 == 0 else [nhse])
            return programme

        client.force_login(staff)
        few, many = make(2), make(20)

        def count(programme):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/programmes/{programme.slug}/history/")
            assert response.status_code == 200
            return len(queries), response.content.decode()

        few_queries, _ = count(few)
        many_queries, html = count(many)
        assert "Bodies: added NHS Improvement" in history_cell_text(html)
        assert "Post 19" in html  # the related records of the newest entries are named
        assert many_queries == few_queries

    def test_pages_compare_their_oldest_entry_with_the_one_before(self, client, staff, programme):
        for i in range(30):
            programme.refresh_from_db()
            programme.title = f"Title {i}"
            programme.save()
        client.force_login(staff)
        html = client.get(f"/programmes/{programme.slug}/history/?page=2").content.decode()
        # Page 2 holds entries 26 to 31 from the newest: its oldest change on it is "Title 0" to "Title 1"...
        text = history_cell_text(html)
        assert "Title: from “Winter resilience” to “Title 0”" in text
        assert "Created" in text


class TestArchivedAndRestored:
    """Archivable records gain a nullable ``archived_at``; history reads its changes as events."""

    def test_archive_mark_reads_as_archived_then_restored(self, monkeypatch):
        from django.db import models

        # The archive mark as the lead adds it to archivable models: a nullable date and time, not in forms.
        mark = models.DateTimeField(null=True, editable=False)
        mark.set_attributes_from_name("archived_at")
        mark.model = Measure
        history_model = Measure.history.model
        monkeypatch.setattr(history_model, "tracked_fields", [*history_model.tracked_fields, mark])

        measure = f.MeasureFactory(name="A&E 4-hour")
        created = measure.history.get()
        values = {fld.attname: getattr(created, fld.attname) for fld in history_model._meta.concrete_fields}

        def entry(number, archived_at, **changes):
            record = history_model(
                **{**values, "history_id": created.history_id + number, "history_type": "~", **changes}
            )
            record.archived_at = archived_at
            return record

        created.archived_at = None
        archived = entry(1, timezone.now())
        restored = entry(2, None, name="A&E four-hour standard")
        entries = history.describe_history(Measure, [restored, archived], created)
        assert [e["kind"] for e in entries] == ["restored", "archived"]
        assert [e["kind_label"] for e in entries] == ["Restored", "Archived"]
        assert entries[1]["changes"] == []
        # Other changes made with a restore are still listed; the mark itself is not.
        assert [(c["label"], c["old"], c["new"]) for c in entries[0]["changes"]] == [
            ("Name", "A&E 4-hour", "A&E four-hour standard")
        ]

    def test_models_without_the_archive_mark_still_work(self):
        measure = f.MeasureFactory(name="A&E 4-hour")
        measure.name = "A&E four-hour standard"
        measure.save()
        entries = history.history_entries(measure)
        assert entries[0]["kind"] == "changed"
        assert entries[0]["changes"][0]["old"] == "A&E 4-hour"


class TestValuesInWords:
    def test_dates_and_times(self):
        london = timezone.get_current_timezone()
        assert history.format_date(dt.date(2026, 11, 29)) == "29 November 2026"
        assert history.format_datetime(dt.datetime(2026, 11, 29, 14, 48, tzinfo=london)) == "29 November 2026 at 2:48pm"
        assert history.format_datetime(dt.datetime(2026, 11, 29, 9, 0, tzinfo=london)) == "29 November 2026 at 9am"
        assert history.format_datetime(dt.datetime(2026, 11, 29, 12, 0, tzinfo=london)) == "29 November 2026 at midday"
        assert history.format_datetime(dt.datetime(2026, 11, 29, 0, 0, tzinfo=london)) == "29 November 2026 at midnight"
        # In the portal's time zone: 14:48 UTC in June is 3:48pm in London.
        assert history.format_datetime(dt.datetime(2026, 6, 1, 14, 48, tzinfo=dt.UTC)) == "1 June 2026 at 3:48pm"

    def test_booleans_choices_arrays_numbers(self):
        from programmes.models import Workstream
        from regions.models import Region

        assert history.format_value(Region._meta.get_field("active"), True) == "Yes"
        assert history.format_value(Region._meta.get_field("active"), False) == "No"
        assert history.format_value(Workstream._meta.get_field("audiences"), ["providers", "local_systems"]) == (
            "Providers, Local health systems"
        )
        from decimal import Decimal

        assert history.format_value(Measure._meta.get_field("standard"), Decimal("95.00")) == "95"
        assert history.format_value(Measure._meta.get_field("direction"), "lower") == "Lower is better"

    def test_word_diff(self):
        ops = history.word_diff("one two three four", "one 2 three four five")
        assert ops == [
            {"op": "equal", "text": "one "},
            {"op": "delete", "text": "two "},
            {"op": "insert", "text": "2 "},
            {"op": "equal", "text": "three four "},
            {"op": "insert", "text": "five"},
        ]
        assert "".join(op["text"] for op in ops if op["op"] != "delete") == "one 2 three four five"
        html = str(history.word_diff_html(history.word_diff("a <b>", "a <i>")))
        assert "&lt;b&gt;" in html and "&lt;i&gt;" in html and "<b>" not in html

    def test_related_records_since_deleted_are_named(self, nhse):
        from programmes.models import Programme as P

        field = P._meta.get_field("senior_responsible_owner")
        assert history.format_value(field, 999, related={}) == "Appointment 999 (since deleted)"


class TestHistoryInTheApi:
    API = "/api/v1"

    def client_for(self, user=None):
        from rest_framework.test import APIClient

        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
        return client

    def test_the_same_words_as_the_page(self, client, staff, programme, nhse, nhsi):
        client.force_login(staff)
        client.post(
            f"/programmes/{programme.slug}/edit/",
            form_data(
                programme,
                title="Winter plan",
                status="approved",
                bodies=[nhse.pk, nhsi.pk],
                description=NEW_DESCRIPTION,
                **{"end_date-day": "31", "end_date-month": "3", "end_date-year": "2020"},
            ),
        )
        response = self.client_for(staff).get(f"{self.API}/programmes/{programme.slug}/history/")
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == programme.history.count()
        entries = body["results"]
        assert entries[-1]["kind"] == "created" and entries[-1]["who"] == "The system"
        assert all(e["when"].startswith(str(timezone.localdate().year)) for e in entries)
        changes = {c["field"]: c for e in entries for c in e["changes"] if e["who"] == "Sam Staff"}
        assert changes["title"] == {
            "field": "title",
            "label": "Title",
            "old": "Winter resilience",
            "new": "Winter plan",
            "added": None,
            "removed": None,
            "words": None,
        }
        assert (changes["status"]["old"], changes["status"]["new"]) == ("Proposed", "Approved")
        assert (changes["end_date"]["old"], changes["end_date"]["new"]) == (None, "31 March 2020")
        assert changes["bodies"]["added"] == ["NHS Improvement"] and changes["bodies"]["removed"] == []
        assert changes["bodies"]["new"] == "NHS England; NHS Improvement"
        words = changes["description"]["words"]
        assert {"op": "delete", "text": "for winter, "} in words and {"op": "insert", "text": "all year, "} in words
        assert "".join(w["text"] for w in words if w["op"] != "delete") == NEW_DESCRIPTION
        assert changes["description"]["new"] == NEW_DESCRIPTION

    def test_anonymous_is_refused(self, programme):
        response = self.client_for().get(f"{self.API}/programmes/{programme.slug}/history/")
        assert response.status_code == 401
        assert "results" not in response.json()

    def test_whoever_may_read_the_record_reads_its_history(self, programme, nhsi):
        # Staff of the other body cannot edit this programme, but read it, and so its history.
        other = f.UserFactory(role="Staff", bodies=[nhsi])
        client = self.client_for(other)
        assert (
            client.patch(f"{self.API}/programmes/{programme.slug}/", {"title": "X"}, format="json").status_code == 403
        )
        assert client.get(f"{self.API}/programmes/{programme.slug}/").status_code == 200
        response = client.get(f"{self.API}/programmes/{programme.slug}/history/")
        assert response.status_code == 200 and response.json()["count"] >= 1
        assert client.get(f"{self.API}/programmes/no-such-programme/history/").status_code == 404
        # Writing to it is not a thing.
        assert client.post(f"{self.API}/programmes/{programme.slug}/history/", {}, format="json").status_code == 405

    def test_paginated_and_every_resource_with_a_history_has_it(self, staff, programme):
        for i in range(3):
            programme.refresh_from_db()
            programme.title = f"Title {i}"
            programme.save()
        client = self.client_for(staff)
        first = client.get(f"{self.API}/programmes/{programme.slug}/history/?page_size=2").json()
        second = client.get(f"{self.API}/programmes/{programme.slug}/history/?page_size=2&page=2").json()
        assert [c["new"] for c in first["results"][0]["changes"]] == ["Title 2"]
        assert first["next"] and len(first["results"]) == 2
        # The oldest entry of a page is compared with the one before it, on the next page.
        assert [(c["old"], c["new"]) for c in first["results"][1]["changes"]] == [("Title 0", "Title 1")]
        assert [(c["old"], c["new"]) for c in second["results"][0]["changes"]] == [("Winter resilience", "Title 0")]
        assert client.get(f"{self.API}/programmes/{programme.slug}/history/?page=x").status_code == 400

        schema = client.get("/api/schema/?format=json").json()
        paths = {p for p in schema["paths"] if p.endswith("/history/")}
        assert "/api/v1/programmes/{slug}/history/" in paths
        assert "/api/v1/regions/{ods_code}/history/" in paths or any(p.startswith("/api/v1/regions/") for p in paths)
        # Report runs and findings keep no history, and offer none.
        assert not any(p.startswith(("/api/v1/report-runs/", "/api/v1/findings/")) for p in paths)
        operation = schema["paths"]["/api/v1/programmes/{slug}/history/"]["get"]
        assert {"200", "401", "403", "404"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} >= {"page", "page_size", "slug"}

    def test_query_count_does_not_grow_with_the_entries(self, staff, nhse, nhsi):
        def make(changes):
            programme = f.ProgrammeFactory(bodies=[nhse], accountable_body=nhse)
            people = [f.AppointmentFactory(title=f"Post {i}") for i in range(changes)]
            for i in range(changes):
                programme.refresh_from_db()
                programme.senior_responsible_owner = people[i]
                programme.status = ["approved", "active"][i % 2]
                programme.save()
                programme.bodies.set([nhsi] if i % 2 == 0 else [nhse])
            return programme

        client = self.client_for(staff)
        few, many = make(2), make(20)

        def count(programme):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{self.API}/programmes/{programme.slug}/history/")
            assert response.status_code == 200
            return len(queries), response.json()

        client.get(f"{self.API}/programmes/")  # the token notes its first use once: not part of the count
        few_queries, _ = count(few)
        many_queries, body = count(many)
        assert body["count"] > 50 and len(body["results"]) == 50
        assert any(
            c["field"] == "senior_responsible_owner" and c["new"].endswith(": Post 19")
            for e in body["results"]
            for c in e["changes"]
        )
        assert many_queries == few_queries


def test_entries_since_a_version_say_what_others_changed(staff, programme, nhsi):
    version = programme.history.latest().history_id
    programme.refresh_from_db()
    programme.status = "active"
    programme.save()
    programme.bodies.add(nhsi)
    entries = history.entries_since(programme, str(version))
    changes = [(c["label"], c["old"], c["new"]) for e in entries for c in e["changes"]]
    # One save (the fields, then a body added): one entry, its changes in the order of the form.
    assert len(entries) == 1
    assert changes == [("Bodies", "NHS England", "NHS England; NHS Improvement"), ("Status", "Proposed", "Active")]
    assert history.entries_since(programme, str(programme.history.latest().history_id)) == []
    assert history.entries_since(programme, "") == [] and history.entries_since(programme, "nonsense") == []


def test_a_users_history_names_the_reason_the_groups_and_yes_or_no(client, nhse, staff):
    admin = f.UserFactory(role="Administrator", bodies=[nhse], first_name="Ada", last_name="Admin")
    client.force_login(admin)
    client.post(f"/users/{staff.pk}/deactivate/")
    text = history_cell_text(client.get(f"/users/{staff.pk}/history/").content.decode())
    assert "Ada Admin Changed (Deactivated) Active: from “Yes” to “No”" in text
