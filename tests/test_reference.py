"""Reference data: load_reference is complete and idempotent; import_ods takes the real files or nothing."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from measures.models import Measure
from organisations.models import NationalBody, Organisation, StatutoryDuty
from organisations.services import OdsFileError, import_ods, readable_name
from regions.models import LocalHealthSystem, LocalOffice, Region
from tests.conftest import shared_test_data

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "data"
ETR = DATA / "ods" / "etr.csv"
ECCG = DATA / "ods" / "eccg.csv"


def history_rows():
    return sum(
        model.history.count()
        for model in (NationalBody, StatutoryDuty, Region, LocalHealthSystem, Measure, Organisation)
    )


def load_reference():
    call_command("load_reference", stdout=io.StringIO())


@pytest.fixture(scope="class")
def reference_once(django_db_setup, django_db_blocker):
    """The reference data, loaded once for a class of tests (for a test outside a class, once for it): what a
    test writes over it is rolled back after the test, and the reference data after the class's last test."""
    yield from shared_test_data(django_db_blocker, load_reference)


@pytest.fixture
def reference(db, reference_once):
    """The reference data as load_reference leaves it on an empty database."""


class TestLoadReference:
    def test_loads_bodies_duties_regions_systems_and_measures(self, reference):
        assert set(NationalBody.objects.values_list("code", flat=True)) == {"NHSE", "NHSI"}
        for body in NationalBody.objects.all():
            assert body.duties.exists(), body
        assert StatutoryDuty.objects.get(slug="nhsi-pricing").body.code == "NHSI"
        assert Region.objects.count() == 10
        assert set(Region.objects.active().values_list("ods_code", flat=True)) == {
            "Y56",
            "Y58",
            "Y59",
            "Y60",
            "Y61",
            "Y62",
            "Y63",
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

    def test_a_changed_reference_record_is_put_back_but_a_measure_people_edit_is_not(self, reference):
        Region.objects.filter(ods_code="Y56").update(name="Somewhere else")
        Measure.objects.filter(code="ae-4hr").update(standard=90)
        call_command("load_reference", stdout=io.StringIO())
        assert Region.objects.get(ods_code="Y56").name == "London Commissioning Region"
        # Staff keep the measures up to date in the portal: loading the reference data again never undoes it.
        assert Measure.objects.get(code="ae-4hr").standard == 90


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
            (
                lambda c: c[:10] + ["2019-04-01"] + c[11:],
                "line {n}, field 11 (open date): “2019-04-01” is not a date in the form YYYYMMDD",
            ),
            (lambda c: c[:10] + ["20190231"] + c[11:], "line {n}, field 11 (open date): “20190231” is not a date"),
            (
                lambda c: ["R0A!"] + c[1:],
                "line {n}, field 1 (organisation code): “R0A!” is not an ODS organisation code",
            ),
            (
                lambda c: c[:10] + ["20200101", "20190101"] + c[12:],
                "line {n}, field 12 (close date): 20190101 is before the open date",
            ),
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


# Recognising a file before reading it ------------------------------------------------------------------

EAUTH = Path(__file__).resolve().parent / "fixtures" / "eauth.csv"


def organisation_state():
    return sorted(Organisation.objects.values_list("ods_code", "kind", "name", "region_id", "closed"))


def refused_whole(path, kind):
    """The one message of a refused file; nothing written, no history."""
    before_rows, before_history = organisation_state(), history_rows()
    offices = LocalOffice.objects.count()
    with pytest.raises(OdsFileError) as raised:
        import_ods(path, kind)
    assert organisation_state() == before_rows and history_rows() == before_history
    assert LocalOffice.objects.count() == offices
    return raised.value.errors


class TestRecognisingFiles:
    def test_a_trusts_file_imported_as_ccgs_is_refused_with_one_message(self, reference):
        import_ods(ETR, "trusts")
        errors = refused_whole(ETR, "ccgs")
        assert len(errors) == 1, errors
        assert errors[0].startswith("etr.csv: this looks like an ODS NHS trust file (etr), not CCGs")
        assert "218 of its 218 codes are NHS trust codes" in errors[0] and "--kind trusts" in errors[0]
        assert not Organisation.objects.filter(kind="ccg").exists()  # the trusts are not re-typed

    def test_a_ccg_file_imported_as_trusts_is_refused_with_one_message(self, reference):
        errors = refused_whole(ECCG, "trusts")
        assert errors == [
            "eccg.csv: this looks like an ODS CCG file (eccg), not trusts (320 of its 320 codes are CCG codes, "
            "two digits and a letter such as 00C or 99A: line 1, field 1 (organisation code) “00C”); "
            "import it with --kind ccgs."
        ]

    @pytest.mark.parametrize("kind", ["trusts", "ccgs"])
    def test_a_regions_and_local_offices_file_is_not_taken_for_organisations(self, reference, kind):
        errors = refused_whole(EAUTH, kind)
        assert len(errors) == 1 and "this looks like an ODS regions and local offices file (eauth)" in errors[0]
        assert errors[0].startswith("eauth.csv: ") and "--kind regions" in errors[0]

    @pytest.mark.parametrize("kind", ["trusts", "ccgs", "regions"])
    def test_a_header_row_of_another_layout_is_one_message(self, reference, tmp_path, kind):
        path = tmp_path / "organisations.csv"
        lines = ["code,name,region,stp,postcode,opened,closed,type"]
        lines += [f"R{n:02d},TRUST {n},Y56,QMF,SW1A 1AA,20180401,,trust" for n in range(240)]
        path.write_text("\n".join(lines) + "\n")
        errors = refused_whole(path, kind)
        assert len(errors) == 1, errors[:3]
        assert errors[0].startswith("organisations.csv, line 1: a header row with 8 columns (“code”, “name”")
        assert "not an ODS file of" in errors[0] and "no header row and 27 fields" in errors[0]

    def test_a_file_with_no_line_of_the_ods_field_count_is_one_message(self, reference, tmp_path):
        path = tmp_path / "short.csv"
        path.write_text("".join(joined(fields(line=n)[:8]) + "\n" for n in range(1, 219)))
        errors = refused_whole(path, "trusts")
        assert errors == [
            "short.csv, line 1: 8 fields, and no line has 27 or 24 (218 of the 218 lines have 8): not an ODS file of "
            "trusts, which has no header row and 27 fields (24 in older releases)."
        ]

    def test_the_portals_own_reference_files_are_not_organisation_files(self, reference):
        for path in (DATA / "ods" / "regions.csv", DATA / "ods" / "stps.csv"):
            errors = refused_whole(path, "trusts")
            assert len(errors) == 1 and f"{path.name}, line 1: a header row with 7 columns" in errors[0]

    def test_the_ods_layout_with_its_column_names_is_read_as_it_is(self, reference, tmp_path):
        header = ["Organisation Code", "Name", "National Grouping", "High Level Health Geography"] + [
            f"Field {n}" for n in range(5, 28)
        ]
        path = tmp_path / "etr-with-names.csv"
        path.write_text(joined(header) + "\n" + "\n".join(ETR.read_text().splitlines()[:3]) + "\n")
        assert import_ods(path, "trusts").created == 3

    def test_a_few_codes_of_another_kind_are_named_by_line_and_field(self, reference, tmp_path):
        lines = ETR.read_text().splitlines()
        lines[4] = joined(fields(ECCG, line=1))
        path = tmp_path / "etr.csv"
        path.write_text("\n".join(lines) + "\n")
        errors = refused_whole(path, "trusts")
        assert errors == [
            "etr.csv, line 5, field 1 (organisation code): “00C” is not one of the NHS trust codes, R.. or T..; "
            "it looks like one of the CCG codes, two digits and a letter such as 00C or 99A."
        ]

    def test_a_ccg_sub_type_that_is_not_an_ods_role_is_named(self, reference, tmp_path):
        cells = fields(ECCG, line=2)
        cells[13] = "CCG"
        path = broken_copy(tmp_path, 2, joined(cells), source=ECCG)
        assert refused_whole(path, "ccgs") == [
            "eccg.csv, line 2, field 14 (sub-type): “CCG” is not an ODS role code such as RO98."
        ]

    @pytest.mark.parametrize(
        "codes, looks_like",
        [
            ([f"R0A{n:02d}" for n in range(12)], "an ODS trust sites file (ets)"),
            ([f"A810{n:02d}" for n in range(12)], "an ODS GP practice file (epraccur)"),
        ],
    )
    def test_other_ods_files_are_named_and_not_imported(self, reference, tmp_path, codes, looks_like):
        path = tmp_path / "other.csv"
        path.write_text("\n".join(joined([code] + fields(line=1)[1:]) for code in codes) + "\n")
        errors = refused_whole(path, "trusts")
        assert len(errors) == 1 and errors[0].startswith(
            f"other.csv: this looks like {looks_like}, not trusts (12 of its 12"
        )
        assert errors[0].endswith("the portal does not import such files.")

    def test_the_ccg_sub_type_field_tells_a_ccg_file_whose_codes_are_unfamiliar(self, reference, tmp_path):
        lines = []
        for n in range(1, 11):
            cells = fields(ECCG, line=n)
            cells[0], cells[13] = f"ZZ{n}", "RO98"
            lines.append(joined(cells))
        path = tmp_path / "commissioners.csv"
        path.write_text("\n".join(lines) + "\n")
        assert refused_whole(path, "trusts") == [
            "commissioners.csv: this looks like an ODS CCG file (eccg), not trusts (10 of its 10 lines have an ODS role "
            "in field 14 (sub-type), as CCG files do: line 1, field 14 “RO98”); import it with --kind ccgs."
        ]

    def test_a_file_of_unknown_codes_says_what_was_expected(self, reference, tmp_path):
        path = tmp_path / "odd.csv"
        path.write_text("\n".join(joined([f"ZZ{n}"] + fields(line=1)[1:]) for n in range(1, 6)) + "\n")
        errors = refused_whole(path, "trusts")
        assert errors == [
            "odd.csv: this does not look like an ODS NHS trust file (etr): 0 of its 5 codes are NHS trust codes, "
            "R.. or T.. (line 1, field 1 (organisation code): “ZZ1”)."
        ]

    @pytest.mark.parametrize(
        "content, message",
        [
            (b"", "empty.csv: the file has no organisations."),
            (b"\n\n", "empty.csv: the file has no organisations."),
            (b"\xff\xfe\x00R\x00", "empty.csv: the file is not UTF-8 text."),
            (
                b'"R0A","' + b"x" * 200_000 + b'"\n',
                "empty.csv: the file is not valid CSV (field larger than field limit",
            ),
        ],
    )
    def test_unreadable_files_are_one_message_never_a_traceback(self, reference, tmp_path, content, message):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(CommandError) as raised:
            call_command("import_ods", str(path), "--kind", "trusts")
        assert message in str(raised.value) and "nothing was saved" in str(raised.value)

    def test_the_command_refuses_a_file_of_the_wrong_kind_with_its_one_message(self, reference):
        with pytest.raises(CommandError) as raised:
            call_command("import_ods", str(ETR), "--kind", "ccgs")
        text = str(raised.value)
        assert (
            "nothing was saved" in text
            and text.count("etr.csv") == 2
            and "this looks like an ODS NHS trust file" in text
        )
        assert Organisation.objects.count() == 0


def test_a_correct_24_field_ccg_file_still_imports(reference, tmp_path):
    path = tmp_path / "eccg-old.csv"
    path.write_text("\n".join(joined(fields(ECCG, line=n)[:24]) for n in range(1, 321)) + "\n")
    result = import_ods(path, "ccgs")
    assert result.created == 320 and Organisation.objects.filter(kind="ccg").count() == 320
    assert str(Organisation.objects.get(ods_code="00C").closed) == "2020-03-31"


class TestRegionsFile:
    def test_local_offices_and_area_teams_are_kept_with_their_region(self, reference):
        before = {r.ods_code: (r.name, r.slug, r.active, r.effective_to) for r in Region.objects.all()}
        result = import_ods(EAUTH, "regions")
        assert (result.regions_created, result.regions_kept) == (0, 4)
        assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
        # The regions load_reference loaded are left as they are.
        assert {r.ods_code: (r.name, r.slug, r.active, r.effective_to) for r in Region.objects.all()} == before
        offices = {o.ods_code: o for o in LocalOffice.objects.select_related("region")}
        assert {code: o.region.ods_code for code, o in offices.items()} == {
            "Q44": "Y54",
            "Q45": "Y54",
            "Q70": "Y57",
            "Q71": "Y56",
            "Q72": "Y54",
            "Q79": "Y55",
        }
        assert offices["Q44"].name == "Cheshire, Warrington and Wirral Area Team"
        assert (str(offices["Q72"].opened), str(offices["Q72"].closed)) == ("2016-04-01", "2019-03-31")
        assert Organisation.objects.count() == 0

    def test_a_second_import_changes_nothing(self, reference):
        import_ods(EAUTH, "regions")
        before = history_rows() + LocalOffice.history.count()
        out = io.StringIO()
        call_command("import_ods", str(EAUTH), "--kind", "regions", stdout=out)
        assert history_rows() + LocalOffice.history.count() == before
        assert "0 regions created, 4 already known" in out.getvalue()
        assert "0 local offices and area teams created, 0 updated, 6 unchanged" in out.getvalue()

    def test_a_local_office_of_an_unknown_region_is_named_and_nothing_written(self, reference, tmp_path):
        cells = fields(EAUTH, line=5)
        cells[2] = "Y53"
        path = broken_copy(tmp_path, 5, joined(cells), source=EAUTH)
        assert refused_whole(path, "regions") == [
            "eauth.csv, line 5, field 3 (national grouping): “Y53” is not a region the portal knows nor one in this file."
        ]

    def test_an_organisation_file_is_not_taken_for_regions(self, reference):
        errors = refused_whole(ETR, "regions")
        assert len(errors) == 1 and "not regions and local offices" in errors[0] and "--kind trusts" in errors[0]

    def test_an_older_file_naming_only_a_local_office_is_linked_to_its_region(self, reference, tmp_path):
        old = fields(line=1)
        old[2], old[3] = "", "Q72"
        path = tmp_path / "etr-2017.csv"
        path.write_text(joined(old) + "\n")
        import_ods(path, "trusts")
        assert Organisation.objects.get().region is None  # not yet known: no local offices loaded
        import_ods(EAUTH, "regions")
        assert import_ods(path, "trusts").updated == 1
        org = Organisation.objects.get()
        assert org.region.ods_code == "Y54" and not org.region.active and org.local_system is None

    def test_the_files_own_region_wins_over_its_local_office(self, reference, tmp_path):
        import_ods(EAUTH, "regions")
        old = fields(line=1)
        old[2], old[3] = "Y56", "Q72"  # London, with a local office of the North: the file's region is kept
        path = tmp_path / "etr-2017.csv"
        path.write_text(joined(old) + "\n")
        import_ods(path, "trusts")
        assert Organisation.objects.get().region.ods_code == "Y56"


# On an empty database: outside TestRegionsFile, whose tests share the reference data.
def test_a_region_the_portal_does_not_have_is_added_inactive(db):
    result = import_ods(EAUTH, "regions")
    assert result.regions_created == 4
    regions = {r.ods_code: r for r in Region.objects.all()}
    assert [code for code, r in sorted(regions.items()) if r.active] == ["Y56"]  # the one joint region
    assert (
        regions["Y54"].name == "North of England Commissioning Region"
        and str(regions["Y54"].effective_to) == "2019-04-03"
    )
    assert LocalOffice.objects.get(ods_code="Q70").region == regions["Y57"]
