"""Reference data: load_reference is complete and idempotent; import_ods takes the real files or nothing."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from organisations.models import NationalBody, Organisation, StatutoryDuty
from organisations.services import OdsFileError, import_ods, readable_name
from programmes.models import Measure
from regions.models import LocalHealthSystem, Region

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "data"
ETR = DATA / "ods" / "etr.csv"
ECCG = DATA / "ods" / "eccg.csv"


def history_rows():
    return sum(
        model.history.count()
        for model in (NationalBody, StatutoryDuty, Region, LocalHealthSystem, Measure, Organisation)
    )


@pytest.fixture
def reference(db):
    call_command("load_reference", stdout=io.StringIO())


class TestLoadReference:
    def test_loads_bodies_duties_regions_systems_and_measures(self, reference):
        assert set(NationalBody.objects.values_list("code", flat=True)) == {"NHSE", "NHSI"}
        for body in NationalBody.objects.all():
            assert body.duties.exists(), body
        assert StatutoryDuty.objects.get(slug="nhsi-pricing").body.code == "NHSI"
        assert Region.objects.count() == 10
        assert set(Region.objects.active().values_list("ods_code", flat=True)) == {
            "Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"
        }
        assert set(Region.objects.filter(active=False).values_list("ods_code", flat=True)) == {"Y54", "Y55", "Y57"}
        assert LocalHealthSystem.objects.count() == 42
        assert not LocalHealthSystem.objects.filter(region__active=False).exists()
        assert Measure.objects.count() == 10
        ae = Measure.objects.get(code="ae-4hr")
        assert (ae.unit, ae.direction, ae.standard, ae.comparator) == ("percent", "higher", 95, ">=")

    def test_partial_dates_are_the_first_day_of_their_year_or_month(self, reference):
        assert str(Region.objects.get(ods_code="Y58").effective_from) == "2018-01-01"
        assert str(Region.objects.get(ods_code="Y60").effective_from) == "2019-04-01"
        y57 = Region.objects.get(ods_code="Y57")
        assert (str(y57.effective_from), str(y57.effective_to)) == ("2012-10-01", "2018-07-12")
        assert Region.objects.get(ods_code="Y56").effective_to is None

    def test_a_second_run_changes_nothing_and_writes_no_history(self, reference):
        before = history_rows()
        out = io.StringIO()
        call_command("load_reference", stdout=out)
        assert history_rows() == before
        assert " 0 created, 0 updated" in out.getvalue() and "created, 0 updated, 42 unchanged" in out.getvalue()

    def test_a_changed_record_is_put_back(self, reference):
        Measure.objects.filter(code="ae-4hr").update(standard=90)
        call_command("load_reference", stdout=io.StringIO())
        assert Measure.objects.get(code="ae-4hr").standard == 95


class TestImportOds:
    def test_trusts_one_organisation_per_row_linked_to_region_and_stp(self, reference):
        result = import_ods(ETR, "trusts")
        assert Organisation.objects.count() == result.created == 218
        manchester = Organisation.objects.get(ods_code="R0A")
        assert manchester.name == "Manchester University NHS Foundation Trust"
        assert manchester.kind == "foundation_trust"
        assert (manchester.region.ods_code, manchester.local_system.ods_code) == ("Y62", "QOP")
        assert str(manchester.opened) == "2017-10-01" and manchester.closed is None
        assert manchester.postcode == "M13 9WL"
        # Every row whose region and STP codes are known is linked to both.
        regions = set(Region.objects.values_list("ods_code", flat=True))
        systems = set(LocalHealthSystem.objects.values_list("ods_code", flat=True))
        for line in ETR.read_text().splitlines():
            code, _, region, stp = [cell.strip('"') for cell in line.split('","')[:4]]
            org = Organisation.objects.get(ods_code=code)
            assert (org.region.ods_code if org.region else None) == (region if region in regions else None), code
            if region in regions and stp in systems:
                assert org.local_system.ods_code == stp, code
        assert Organisation.objects.filter(kind="nhs_trust").exists()

    def test_ccgs_keep_their_close_dates(self, reference):
        import_ods(ECCG, "ccgs")
        assert Organisation.objects.filter(kind="ccg").count() == 320
        darlington = Organisation.objects.get(ods_code="00C")
        assert darlington.name == "NHS Darlington CCG"
        assert str(darlington.closed) == "2020-03-31"

    def test_a_second_import_changes_nothing(self, reference):
        import_ods(ETR, "trusts")
        before = history_rows()
        result = import_ods(ETR, "trusts")
        assert (result.created, result.updated, result.unchanged) == (0, 0, 218)
        assert history_rows() == before

    def test_the_command_prints_what_it_did(self, reference):
        out = io.StringIO()
        call_command("import_ods", str(ETR), "--kind", "trusts", stdout=out)
        assert "218 organisations created" in out.getvalue()


def broken_copy(tmp_path, line_number, new_line, source=ETR):
    lines = source.read_text().splitlines()
    lines[line_number - 1] = new_line
    path = tmp_path / source.name
    path.write_text("\n".join(lines) + "\n")
    return path


def fields(source=ETR, line=1):
    return [cell.strip('"') for cell in source.read_text().splitlines()[line - 1].split('","')]


def joined(cells):
    return ",".join(f'"{cell}"' for cell in cells)


class TestBrokenFilesChangeNothing:
    @pytest.mark.parametrize(
        "change, message",
        [
            (lambda c: c[:19], "line {n}: 19 fields, expected 27 (or 24 in older releases)"),
            (lambda c: c[:10] + ["2019-04-01"] + c[11:], "line {n}, field 11 (open date): “2019-04-01” is not a date in the form YYYYMMDD"),
            (lambda c: c[:10] + ["20190231"] + c[11:], "line {n}, field 11 (open date): “20190231” is not a date"),
            (lambda c: ["R0A!"] + c[1:], "line {n}, field 1 (organisation code): “R0A!” is not an ODS organisation code"),
            (lambda c: c[:10] + ["20200101", "20190101"] + c[12:], "line {n}, field 12 (close date): 20190101 is before the open date"),
        ],
    )
    @pytest.mark.parametrize("n", [1, 218])
    def test_a_bad_line_refuses_the_whole_file(self, reference, tmp_path, change, message, n):
        path = broken_copy(tmp_path, n, joined(change(fields(line=n))))
        before = history_rows()
        with pytest.raises(OdsFileError) as raised:
            import_ods(path, "trusts")
        assert any(f"etr.csv, {message.format(n=n)}" in error for error in raised.value.errors), raised.value.errors
        assert Organisation.objects.count() == 0
        assert history_rows() == before

    def test_an_update_from_a_bad_file_is_not_half_applied(self, reference, tmp_path):
        import_ods(ETR, "trusts")
        renamed = fields(line=1)
        renamed[1] = "RENAMED TRUST"
        lines = ETR.read_text().splitlines()
        lines[0] = joined(renamed)
        lines[-1] = joined(fields(line=218)[:5])
        path = tmp_path / "etr.csv"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(OdsFileError):
            import_ods(path, "trusts")
        assert Organisation.objects.get(ods_code="R0A").name == "Manchester University NHS Foundation Trust"

    def test_the_command_exits_non_zero_naming_line_and_field(self, reference, tmp_path):
        path = broken_copy(tmp_path, 12, joined(fields(line=12)[:10] + ["12/04/2019"] + fields(line=12)[11:]))
        with pytest.raises(CommandError) as raised:
            call_command("import_ods", str(path), "--kind", "trusts")
        assert "nothing was saved" in str(raised.value)
        assert "etr.csv, line 12, field 11 (open date)" in str(raised.value)
        assert Organisation.objects.count() == 0

    def test_every_bad_line_is_named(self, reference, tmp_path):
        lines = ETR.read_text().splitlines()
        for n in (3, 7, 9):
            lines[n - 1] = joined(fields(line=n)[:20])
        path = tmp_path / "etr.csv"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(OdsFileError) as raised:
            import_ods(path, "trusts")
        assert [e.split(":")[0] for e in raised.value.errors] == [f"etr.csv, line {n}" for n in (3, 7, 9)]

    def test_a_missing_file_and_an_unknown_kind_are_refused(self, reference, tmp_path):
        with pytest.raises(CommandError, match="no such file"):
            call_command("import_ods", str(tmp_path / "nope.csv"), "--kind", "trusts")
        with pytest.raises(CommandError, match="invalid choice: 'gps'"):
            call_command("import_ods", str(ETR), "--kind", "gps")
        assert Organisation.objects.count() == 0


def test_older_24_field_releases_are_accepted(reference, tmp_path):
    lines = [joined(fields(line=n)[:24]) for n in range(1, 6)]
    path = tmp_path / "etr-old.csv"
    path.write_text("\n".join(lines) + "\n")
    assert import_ods(path, "trusts").created == 5


def test_retired_region_codes_link_to_the_inactive_region(reference, tmp_path):
    old = fields(line=1)
    old[2], old[3] = "Y54", "Q72"
    path = tmp_path / "etr-2015.csv"
    path.write_text(joined(old) + "\n")
    import_ods(path, "trusts")
    org = Organisation.objects.get()
    assert org.region.ods_code == "Y54" and not org.region.active
    assert org.local_system is None  # Q72 was an NHS England local office, not a local health system


@pytest.mark.parametrize(
    "raw, readable",
    [
        ("MANCHESTER UNIVERSITY NHS FOUNDATION TRUST", "Manchester University NHS Foundation Trust"),
        ("NHS DURHAM DALES, EASINGTON AND SEDGEFIELD CCG", "NHS Durham Dales, Easington and Sedgefield CCG"),
        ("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "Guy's and St Thomas' NHS Foundation Trust"),
        ("ROYAL DEVON AND EXETER NHS FOUNDATION TRUST", "Royal Devon and Exeter NHS Foundation Trust"),
    ],
)
def test_ods_names_are_made_readable(raw, readable):
    assert readable_name(raw) == readable
