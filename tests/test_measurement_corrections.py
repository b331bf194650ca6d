"""Correcting a monthly figure: a new value and a required reason, kept in the figure's history."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from measures.models import Measurement
from tests import factories as f
from tests.test_edits_kept import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def figure(nhse):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours", unit="percent")
    return f.MeasurementFactory(
        measure=measure, region=london, month=dt.date(2019, 4, 1), value=Decimal("87.2"), source="published"
    )


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


@pytest.fixture
def other(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Alex", last_name="Other")


def edit_url(figure):
    return f"/measurements/{figure.pk}/edit/"


def opened(client, figure):
    response = client.get(edit_url(figure))
    assert response.status_code == 200
    return form_data(response.content.decode())


def test_the_measures_page_offers_a_correction_of_each_figure(client, staff, figure):
    client.force_login(staff)
    html = client.get(figure.measure.get_absolute_url()).content.decode()
    assert f'href="{edit_url(figure)}">Correct London, Apr 2019</a>' in html


def test_a_figure_corrected_with_a_reason_shows_in_its_history_with_the_reason(client, staff, figure):
    client.force_login(staff)
    data = opened(client, figure)
    assert data["value"] == "87.200" or Decimal(data["value"]) == Decimal("87.2")
    data.update(value="88.1", reason="Revised in the published statistics")
    response = client.post(edit_url(figure), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    figure.refresh_from_db()
    assert figure.value == Decimal("88.1")
    assert figure.source == Measurement.Source.ENTERED
    latest = figure.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Revised in the published statistics"
    assert latest.history_user == staff
    # The figure's page shows the change, who made it and why; so does its history page.
    page = client.get(figure.get_absolute_url()).content.decode()
    assert "Changes to this figure" in page
    assert "87.2 to 88.1" in page and "Revised in the published statistics" in page and "Sam Staff" in page
    assert "Revised in the published statistics" in client.get(f"/measurements/{figure.pk}/history/").content.decode()
    # The dashboards read the corrected figure (their cache key is a digest of the figures).
    assert Measurement.objects.get(pk=figure.pk).value == Decimal("88.1")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_missing_reason_is_named_and_nothing_is_saved(client, staff, figure, reason):
    client.force_login(staff)
    before = figure.history.count()
    data = opened(client, figure)
    data.update(value="88.1", reason=reason)
    response = client.post(edit_url(figure), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the reason for the correction." in html
    assert 'href="#reason"' in html or 'href="#id_reason"' in html  # the error summary links to the field
    figure.refresh_from_db()
    assert figure.value == Decimal("87.2") and figure.history.count() == before
    # The heading names the figure as stored, in its unit, not the value typed and refused.
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert "87.2%" in heading and "88.1" not in heading, heading


def test_bad_values_are_named_and_nothing_is_saved(client, staff, figure):
    client.force_login(staff)
    data = opened(client, figure)
    for value, message in [
        ("101", "the value must lie between 0 and 100"),
        ("abc", "The corrected value must be a number."),
        ("87.2", "Enter a value different from the one held (87.2)"),
        ("", "Enter the corrected value."),
    ]:
        response = client.post(edit_url(figure), {**data, "value": value, "reason": "Typo"})
        assert response.status_code == 400, value
        assert message in response.content.decode(), value
    long = client.post(edit_url(figure), {**data, "value": "88", "reason": "x" * 101})
    assert long.status_code == 400 and "The reason must be 100 characters or fewer." in long.content.decode()
    figure.refresh_from_db()
    assert figure.value == Decimal("87.2") and figure.history.count() == 1


def test_someone_who_may_not_edit_is_refused(client, nhse, figure):
    admin_only = f.UserFactory(role="Administrator", bodies=[nhse])
    client.force_login(admin_only)
    assert client.get(edit_url(figure)).status_code == 403
    response = client.post(edit_url(figure), {"value": "50", "reason": "No right to"})
    assert response.status_code == 403
    figure.refresh_from_db()
    assert figure.value == Decimal("87.2")
    html = client.get(figure.measure.get_absolute_url()).content.decode()
    assert edit_url(figure) not in html


def test_a_figure_cannot_be_deleted_or_created_through_the_correction_pages(client, staff, figure):
    client.force_login(staff)
    assert client.get(f"/measurements/{figure.pk}/delete/").status_code == 404
    assert client.get("/measurements/new/").status_code == 404


def test_a_concurrent_correction_is_a_conflict_the_person_resolves(client, staff, other, figure):
    client.force_login(staff)
    mine = opened(client, figure)
    theirs_client = Client()
    theirs_client.force_login(other)
    theirs = opened(theirs_client, figure)
    theirs.update(value="88.1", reason="Revised in the published statistics")
    assert theirs_client.post(edit_url(figure), theirs).status_code == 302

    mine.update(value="86.9", reason="Entered from the trust's return")
    response = client.post(edit_url(figure), mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert "88.1" in html and "86.9" in html
    figure.refresh_from_db()
    assert figure.value == Decimal("88.1")  # nothing of mine written until I choose

    # Choosing mine saves it, with my reason; their change stays in the history.
    again = form_data(html)
    again.update(value="86.9", reason="Entered from the trust's return", _keep_value="mine")
    response = client.post(edit_url(figure), again)
    assert response.status_code == 302, response.content.decode()[:3000]
    figure.refresh_from_db()
    assert figure.value == Decimal("86.9")
    reasons = list(figure.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[-2:] == ["Revised in the published statistics", "Entered from the trust's return"]


def test_a_stale_form_with_only_a_reason_keeps_the_other_persons_value(client, staff, other, figure):
    client.force_login(staff)
    mine = opened(client, figure)
    theirs_client = Client()
    theirs_client.force_login(other)
    theirs = opened(theirs_client, figure)
    theirs.update(value="88.1", reason="Revised")
    assert theirs_client.post(edit_url(figure), theirs).status_code == 302
    # I leave the value as I opened it: their value is kept, and mine is not a correction at all.
    mine.update(reason="Checked")
    response = client.post(edit_url(figure), mine)
    assert response.status_code == 400
    figure.refresh_from_db()
    assert figure.value == Decimal("88.1")


class TestImportTemplate:
    """The import page's template file: the importer's own header and an example line it accepts."""

    def test_the_template_downloads_and_imports_cleanly(self, client, staff, figure):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from measures import services

        f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands")
        client.force_login(staff)
        page = client.get("/measurements/import/").content.decode()
        assert 'href="/measurements/import/template.csv"' in page
        response = client.get("/measurements/import/template.csv")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"] == 'attachment; filename="measurements-template.csv"'
        text = response.content.decode()
        header, example = text.splitlines()
        assert header == ",".join(services.COLUMNS)
        last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        assert example == f"ae-4hr,Y56,{last_month:%Y-%m},95"  # the measure's national standard
        # What the importer reads from the template is what the template says.
        assert [
            (m.code, r.ods_code, month, v)
            for m, r, month, v in services.read_measurements(text.splitlines(keepends=True))
        ] == [("ae-4hr", "Y56", last_month, 95)]
        before = Measurement.objects.count()
        upload = SimpleUploadedFile("measurements-template.csv", response.content, content_type="text/csv")
        imported = client.post("/measurements/import/", {"file": upload}, follow=True)
        assert imported.status_code == 200
        assert "1 measurement added, 0 updated, 0 unchanged." in imported.content.decode()
        assert Measurement.objects.count() == before + 1
        saved = Measurement.objects.get(measure__code="ae-4hr", region__ods_code="Y56", month=last_month)
        assert saved.value == 95
        # The file a figure came from is kept in its history, as a correction's reason is.
        assert saved.history.get().history_change_reason == "Imported from measurements-template.csv"

    def test_the_example_uses_the_measures_standard_and_england_without_regions(self):
        from measures import services

        f.MeasureFactory(code="a-first", unit="percent", standard=95)
        assert services.template_rows(dt.date(2024, 1, 15)) == [
            list(services.COLUMNS),
            ["a-first", "", "2023-12", "95"],
        ]

    def test_only_editors_download_it(self, client, nhse):
        client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
        assert client.get("/measurements/import/template.csv").status_code == 403


def test_the_regions_chart_of_a_measure_leads_to_the_correction_of_a_month(client, staff, figure):
    f.ProgrammeMeasureFactory(measure=figure.measure)
    client.force_login(staff)
    html = client.get(f"/regions/Y56/measures/{figure.measure.code}/").content.decode()
    assert 'action="/measures/ae-4hr/correct/"' in html
    assert '<option value="2019-04">April 2019: 87.2%</option>' in html
    response = client.get("/measures/ae-4hr/correct/", {"region": "Y56", "month": "2019-04"})
    assert response.status_code == 302 and response["Location"] == edit_url(figure)
    for bad in ({"region": "Y56", "month": "2019-05"}, {"region": "Y99", "month": "2019-04"}, {"month": "abc"}, {}):
        assert client.get("/measures/ae-4hr/correct/", bad).status_code == 404, bad


def test_the_correction_offer_is_for_editors_only(client, nhse, figure):
    client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
    html = client.get(f"/regions/Y56/measures/{figure.measure.code}/").content.decode()
    assert "Correct a monthly figure" not in html
    assert client.get("/measures/ae-4hr/correct/", {"region": "Y56", "month": "2019-04"}).status_code == 403


def test_a_figures_page_reads_a_fixed_number_of_queries_however_often_it_was_corrected(client, staff, figure):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(figure.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    figure._change_reason = "First"
    figure.value = Decimal("1")
    figure.save()
    few = count()
    for i in range(30):
        figure.value = Decimal(i + 2)
        figure._change_reason = f"Change {i}"
        figure.save()
    assert count() == few
    html = client.get(figure.get_absolute_url()).content.decode()
    assert "Change 29" in html and "Change 5" not in html  # the latest changes; the rest on the history page
