"""Measurements entered one month at a time on a measure's page, and imported from CSV: all or nothing."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from measures.models import Measurement
from measures.services import MeasurementFileError, import_measurements
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


@pytest.fixture
def ae(db):
    return f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours", unit="percent", standard=95)


@pytest.fixture
def minutes(db):
    return f.MeasureFactory(code="amb-cat1-mean", name="Category 1 mean", unit="minutes", direction="lower", standard=7)


@pytest.fixture
def london(db):
    return f.RegionFactory(ods_code="Y56", name="London", short_name="London")


def entry(region="", month="4", year="2019", value="91.5"):
    return {"region": region, "month-month": month, "month-year": year, "value": value}


class TestEntryOnTheMeasurePage:
    def test_a_month_is_saved_for_a_region_as_entered(self, client, staff, ae, london):
        client.force_login(staff)
        response = client.post(f"/measures/{ae.code}/measurements/new/", entry(region=london.pk))
        assert response.status_code == 302 and response["Location"] == f"/measures/{ae.code}/"
        saved = Measurement.objects.get()
        assert (saved.region, saved.month, saved.value, saved.source) == (
            london,
            dt.date(2019, 4, 1),
            Decimal("91.5"),
            "entered",
        )
        assert saved.history.get().history_user == staff

    def test_england_is_the_empty_region(self, client, staff, ae):
        client.force_login(staff)
        assert client.post(f"/measures/{ae.code}/measurements/new/", entry()).status_code == 302
        assert Measurement.objects.get().region is None

    @pytest.mark.parametrize(
        "data, field, message",
        [
            (entry(value="105"), "value", "must lie between 0 and 100"),
            (entry(value="lots"), "value", "The value must be a number."),
            (entry(month="13"), "month-month", "must be a real month"),
            (entry(month=""), "month-month", "must include a month"),
            (entry(year=str(dt.date.today().year + 1)), "month-month", "must not be in the future"),
        ],
    )
    def test_bad_input_is_named_by_its_field_and_kept(self, client, staff, ae, data, field, message):
        client.force_login(staff)
        response = client.post(f"/measures/{ae.code}/measurements/new/", data)
        html = response.content.decode()
        assert response.status_code == 400
        assert message in html
        assert f'href="#id_{field}"' in html  # the error summary links to the box
        assert f'value="{data["value"]}"' in html
        assert not Measurement.objects.exists()

    def test_a_month_already_held_is_not_overwritten(self, client, staff, ae):
        f.MeasurementFactory(measure=ae, region=None, month=dt.date(2019, 4, 1), value=88)
        client.force_login(staff)
        response = client.post(f"/measures/{ae.code}/measurements/new/", entry())
        assert response.status_code == 400
        assert "There is already a measurement for England in April 2019 (88.000" in response.content.decode()
        assert Measurement.objects.get().value == 88

    def test_only_staff_may_enter(self, client, ae, nhse):
        admin_only = f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin_only)
        response = client.post(f"/measures/{ae.code}/measurements/new/", entry())
        assert response.status_code == 403
        assert "Only Staff and Regional directors" in response.content.decode()
        assert not Measurement.objects.exists()

    def test_the_measure_page_offers_entry_and_import_to_staff(self, client, staff, ae):
        client.force_login(staff)
        html = client.get(f"/measures/{ae.code}/").content.decode()
        assert f'href="/measures/{ae.code}/measurements/new/"' in html
        assert 'href="/measurements/import/"' in html


class TestImport:
    def test_a_good_file_is_imported_and_a_second_time_changes_nothing(self, ae, london, staff):
        text = "measure,region,month,value\nae-4hr,Y56,2019-04,87.5\nae-4hr,,2019-04-01,89\nae-4hr,ENG,2019-05,90\n"
        result = import_measurements(io.StringIO(text), "figures.csv", user=staff)
        assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
        assert Measurement.objects.filter(region=None).count() == 2
        assert set(Measurement.objects.values_list("source", flat=True)) == {"imported"}
        history = Measurement.history.count()
        again = import_measurements(io.StringIO(text), "figures.csv")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
        assert Measurement.history.count() == history

    def test_a_held_month_takes_the_files_value_with_history(self, ae, london):
        held = f.MeasurementFactory(measure=ae, region=london, month=dt.date(2019, 4, 1), value=80)
        result = import_measurements(io.StringIO("measure,region,month,value\nae-4hr,Y56,2019-04,81.25\n"))
        assert result.updated == 1
        held.refresh_from_db()
        assert held.value == Decimal("81.25") and held.source == "imported"
        assert held.history.first().history_type == "~"

    @pytest.mark.parametrize(
        "line, message",
        [
            ("ae-4hr,Y56,2019-04", "line 3: 3 fields, expected 4"),
            ("nope,Y56,2019-04,50", "line 3, measure: no measure has the code “nope”"),
            ("ae-4hr,Y99,2019-04,50", "line 3, region: no region has the ODS code “Y99”"),
            ("ae-4hr,Y56,April 2019,50", "line 3, month: “April 2019” is not a month"),
            ("ae-4hr,Y56,2019-04-15,50", "line 3, month: “2019-04-15” is not a month"),
            ("ae-4hr,Y56,2019-04,ninety", "line 3, value: “ninety” is not a number"),
            ("ae-4hr,Y56,2019-04,NaN", "line 3, value: “NaN” is not a number"),
            ("ae-4hr,Y56,2019-04,101", "line 3, value: A&E within 4 hours is a percentage"),
            ("amb-cat1-mean,Y56,2019-04,-2", "line 3, value: The value must not be negative."),
            ("ae-4hr,Y56,2019-05,50", "line 3: the same measure, region and month as line 2"),
        ],
    )
    def test_a_bad_line_refuses_the_whole_file_naming_line_and_field(self, ae, minutes, london, line, message):
        text = f"measure,region,month,value\nae-4hr,Y56,2019-05,50\n{line}\n"
        with pytest.raises(MeasurementFileError) as raised:
            import_measurements(io.StringIO(text), "figures.csv")
        assert any(message in error for error in raised.value.errors), raised.value.errors
        assert all(error.startswith("figures.csv") for error in raised.value.errors)
        assert not Measurement.objects.exists()

    def test_every_bad_line_is_reported_not_only_the_first(self, ae, london):
        lines = [f"ae-4hr,Y56,2019-{m:02d},x" for m in range(1, 8)]
        with pytest.raises(MeasurementFileError) as raised:
            import_measurements(io.StringIO("measure,region,month,value\n" + "\n".join(lines)), "f.csv")
        assert [e.split(",")[0] for e in raised.value.errors] == [f"f.csv: line {n}" for n in range(2, 9)]

    @pytest.mark.parametrize(
        "text, message",
        [
            ("", "is empty"),
            ("code,area,when,number\n", "line 1: the header must be"),
            ("measure,region,month,value\n", "has a header but no measurements"),
        ],
    )
    def test_a_file_without_the_right_header_or_rows_is_refused(self, ae, text, message):
        with pytest.raises(MeasurementFileError, match=message):
            import_measurements(io.StringIO(text), "f.csv")

    def test_the_page_imports_a_file(self, client, staff, ae, london):
        client.force_login(staff)
        upload = SimpleUploadedFile(
            "april.csv", b"\xef\xbb\xbfmeasure,region,month,value\r\nae-4hr,Y56,2019-04,87.5\r\n"
        )
        response = client.post("/measurements/import/", {"file": upload}, follow=True)
        assert "“april.csv” imported: 1 measurement added" in response.content.decode()
        assert Measurement.objects.get().value == Decimal("87.5")

    def test_the_page_lists_each_bad_line_and_saves_nothing(self, client, staff, ae, london):
        client.force_login(staff)
        upload = SimpleUploadedFile(
            "bad.csv", b"measure,region,month,value\nae-4hr,Y56,2019-04,87.5\nae-4hr,Y56,2019-13,1\n"
        )
        response = client.post("/measurements/import/", {"file": upload})
        html = response.content.decode()
        assert response.status_code == 400
        assert "The file was not imported" in html and "bad.csv: line 3, month:" in html
        assert not Measurement.objects.exists()

    @pytest.mark.parametrize(
        "name, content, message",
        [
            ("figures.xlsx", b"PK\x03\x04", "must be a CSV file"),
            ("latin.csv", "measure,region,month,value\nae-4hr,Y56,2019-04,8\xb0\n".encode("latin-1"), "not UTF-8"),
        ],
    )
    def test_the_page_refuses_files_it_cannot_read(self, client, staff, ae, london, name, content, message):
        client.force_login(staff)
        response = client.post("/measurements/import/", {"file": SimpleUploadedFile(name, content)})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Measurement.objects.exists()

    def test_the_page_needs_a_file(self, client, staff):
        client.force_login(staff)
        response = client.post("/measurements/import/", {})
        assert response.status_code == 400
        assert 'href="#id_file"' in response.content.decode()

    def test_the_command_exits_non_zero_and_writes_nothing_on_a_bad_file(self, tmp_path, ae, london):
        bad = tmp_path / "bad.csv"
        bad.write_text("measure,region,month,value\nae-4hr,Y56,2019-04,87.5\nae-4hr,Y56,2019-04,x\n")
        with pytest.raises(CommandError, match="line 3, value"):
            call_command("import_measurements", str(bad))
        assert not Measurement.objects.exists()
        good = tmp_path / "good.csv"
        good.write_text("measure,region,month,value\nae-4hr,Y56,2019-04,87.5\n")
        out = io.StringIO()
        call_command("import_measurements", str(good), stdout=out)
        assert "1 measurement added" in out.getvalue()
        with pytest.raises(CommandError, match="cannot be read"):
            call_command("import_measurements", str(tmp_path / "missing.csv"))
