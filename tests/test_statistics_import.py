"""Importing NHS England's published A&E files: figures of every organisation, local health system, region and
England, each an exact sum of the providers' counts; re-imports that keep what staff corrected."""

import csv
import datetime as dt
import gzip
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from measures.models import Measurement
from measures.statistics_import import import_statistics
from organisations.services import import_ods
from tests import factories as f
from tests.test_edits_kept import form_data
from tests.test_published_statistics import CURRENT, EARLIER, provider, written

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
AE_FILES = sorted((DATA / "statistics" / "ae").glob("Monthly-AE-*.csv.gz"))


@pytest.fixture
def ae(db):
    return f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", unit="percent", standard=95)


@pytest.fixture
def london(db):
    region = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    north_east = f.LocalHealthSystemFactory(
        ods_code="QMF", name="East London Health and Care Partnership", region=region
    )
    north_central = f.LocalHealthSystemFactory(ods_code="QMJ", name="North London Partners", region=region)
    f.OrganisationFactory(ods_code="R1H", name="Barts Health NHS Trust", region=region, local_system=north_east)
    f.OrganisationFactory(
        ods_code="RF4", name="Barking, Havering and Redbridge", region=region, local_system=north_east
    )
    f.OrganisationFactory(ods_code="RAL", name="Royal Free London", region=region, local_system=north_central)
    return region


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


def march(
    barts=("30,210", "807", "2,850"), barts_over=("5,902", "11", "6"), header=CURRENT, period="MSitAE-MARCH-2019"
):
    rows = [
        provider(header, period, "R1H", "BARTS HEALTH NHS TRUST", barts, barts_over),
        provider(header, period, "RF4", "BARKING, HAVERING AND REDBRIDGE", ("21289", "813", "0"), ("2879", "22", "0")),
        provider(header, period, "RAL", "ROYAL FREE LONDON", ("12000", "0", "3000"), ("1500", "0", "10")),
        provider(header, period, "NLO01", "A WALK-IN CENTRE", ("900", "0", "0"), ("9", "0", "0")),
    ]
    return written(header, rows, blank_lines=1)  # and the publisher's TOTAL line, with 999,999 in every column


def figure(measure, month=dt.date(2019, 3, 1), **area):
    return Measurement.every_level.get(
        measure=measure, month=month, **{k: area.get(k) for k in ("organisation", "local_system", "region")}
    )


def percent(numerator, denominator):
    return (Decimal(100) * numerator / denominator).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def test_a_month_gives_each_organisation_local_system_region_and_england_its_counts(ae, london):
    result = import_statistics([("March.csv", march())], "ae")
    barts_att, barts_over = 30210 + 807 + 2850, 5902 + 11 + 6
    bhr_att, bhr_over = 21289 + 813, 2879 + 22
    free_att, free_over = 15000, 1510
    walk_in_att, walk_in_over = 900, 9

    barts = figure(ae, organisation=london.organisations.get(ods_code="R1H"))
    assert (barts.numerator, barts.denominator) == (barts_att - barts_over, barts_att)
    assert barts.value == percent(barts_att - barts_over, barts_att)
    assert barts.source == Measurement.Source.PUBLISHED

    east = figure(ae, local_system=london.local_systems.get(ods_code="QMF"))
    assert (east.numerator, east.denominator) == (barts_att - barts_over + bhr_att - bhr_over, barts_att + bhr_att)

    region = figure(ae, region=london)
    attendances = barts_att + bhr_att + free_att
    within = attendances - (barts_over + bhr_over + free_over)
    assert (region.numerator, region.denominator) == (within, attendances)
    # 100 × (1 − Σ over 4 hours ÷ Σ attendances), not the mean of the three trusts' percentages.
    assert round(region.value, 2) == round(100 * (1 - Decimal(barts_over + bhr_over + free_over) / attendances), 2)
    mean_of_rates = (
        sum(percent(a - o, a) for a, o in [(barts_att, barts_over), (bhr_att, bhr_over), (free_att, free_over)]) / 3
    )
    assert round(region.value, 2) != round(mean_of_rates, 2)

    england = figure(ae)  # the walk-in centre the portal does not know counts here only; the TOTAL line not at all
    assert england.denominator == attendances + walk_in_att
    assert england.numerator == within + walk_in_att - walk_in_over

    assert result.created == 3 + 2 + 1 + 1
    assert result.total_lines == 1
    assert result.unknown == [("March.csv", 5, "NLO01", "A WALK-IN CENTRE")]
    assert "1 provider the portal does not know (1 line) counted into England only." in str(result)
    assert result.unknown_lines() == [
        "March.csv: line 5: NLO01 (A WALK-IN CENTRE) is not an organisation the portal knows; counted into England only."
    ]


def test_the_earlier_header_gives_the_same_figures(ae, london):
    import_statistics([("March.csv", march(header=EARLIER))], "ae")
    current = {m.pk: (m.numerator, m.denominator) for m in Measurement.every_level.all()}
    Measurement.every_level.all().delete()
    import_statistics([("March.csv", march())], "ae")
    assert sorted(current.values()) == sorted(Measurement.every_level.values_list("numerator", "denominator"))


def test_importing_a_month_again_replaces_its_published_figures_keeping_their_history(ae, london):
    import_statistics([("March.csv", march())], "ae")
    barts = figure(ae, organisation=london.organisations.get(ods_code="R1H"))
    again = import_statistics([("March-revised.csv", march(barts=("30,310", "807", "2,850")))], "ae")
    assert (again.created, again.updated, again.unchanged) == (0, 4, 3)  # Barts, its system, London, England
    barts.refresh_from_db()
    assert barts.denominator == 30310 + 807 + 2850
    assert [h.history_change_reason for h in barts.history.order_by("history_id")] == [
        "Imported from March.csv",
        "Imported from March-revised.csv",
    ]
    assert Measurement.every_level.count() == 7  # replaced, not added to


def test_a_figure_staff_corrected_survives_a_reimport_and_is_listed(client, ae, london, staff):
    import_statistics([("March.csv", march())], "ae")
    barts = figure(ae, organisation=london.organisations.get(ods_code="R1H"))
    client.force_login(staff)
    data = form_data(client.get(f"/measurements/{barts.pk}/edit/").content.decode())
    data.update(value="80.5", reason="The trust's revised return")
    assert client.post(f"/measurements/{barts.pk}/edit/", data).status_code == 302
    barts.refresh_from_db()
    assert barts.source == Measurement.Source.ENTERED and barts.value == Decimal("80.5")
    assert (barts.numerator, barts.denominator) == (None, None)  # a person's value is not the counts' quotient

    again = import_statistics([("March-revised.csv", march(barts=("30,310", "807", "2,850")))], "ae")
    barts.refresh_from_db()
    assert barts.value == Decimal("80.5") and barts.source == Measurement.Source.ENTERED
    assert again.kept == [barts]
    assert str(again).endswith("1 figure kept: corrected by staff.")
    assert again.kept_figures() == [f"{barts}: kept, corrected by staff."]
    # The areas above it are the file's exact sums still.
    assert figure(ae, region=london).denominator == 30310 + 807 + 2850 + 21289 + 813 + 15000


def test_a_bad_file_saves_nothing_and_names_the_line_and_column(ae, london):
    good = march()
    bad = written(CURRENT, [provider(CURRENT, "MSitAE-APRIL-2019", "R1H", "BARTS", ("1O0", "0", "0"), ("1", "0", "0"))])
    with pytest.raises(Exception) as refused:
        import_statistics([("March.csv", good), ("April.csv", bad)], "ae")
    assert refused.value.errors == ["April.csv: line 2, column “A&E attendances Type 1”: “1O0” is not a whole number."]
    assert not Measurement.every_level.exists()


def test_the_command_imports_gzipped_files_and_says_what_it_did(ae, london, tmp_path):
    path = tmp_path / "Monthly-AE-March-2019.csv.gz"
    path.write_bytes(gzip.compress(march().getvalue()))
    out = io.StringIO()
    call_command("import_statistics", "ae", str(path), stdout=out)
    text = out.getvalue()
    assert "Monthly A&E Attendances and Emergency Admissions, March 2019: 4 provider lines; 7 figures added" in text
    assert (
        "line 5: NLO01 (A WALK-IN CENTRE) is not an organisation the portal knows; counted into England only." in text
    )
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_statistics", "ae", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    (tmp_path / "mine.csv").write_text("measure,region,month,value\nae-4hr,Y56,2019-03,90\n")
    with pytest.raises(CommandError, match="line 1: the header row is not one of a published file"):
        call_command("import_statistics", "ae", str(tmp_path / "mine.csv"), stdout=io.StringIO())


def test_the_import_page_recognises_a_published_file_by_its_header(client, ae, london, staff):
    client.force_login(staff)
    upload = SimpleUploadedFile("Monthly-AE-March-2019.csv", march().getvalue(), content_type="text/csv")
    response = client.post("/measurements/import/", {"file": upload})
    assert response.status_code == 200, response.content.decode()[:2000]
    html = unescape(response.content.decode())
    assert "Monthly A&E Attendances and Emergency Admissions, March 2019" in html
    assert "counted into England only" in html and "NLO01" in html and "line 5" in html
    assert Measurement.every_level.filter(source=Measurement.Source.PUBLISHED).count() == 7


def oracle(paths):
    """The test's own sums of the files: per month, (Σ attendances, Σ over 4 hours) of every provider."""
    by_provider = defaultdict(lambda: [0, 0])
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            for row in csv.DictReader(text):
                if row["Period"] == "TOTAL":
                    continue
                month = dt.datetime.strptime(row["Period"].removeprefix("MSitAE-").title(), "%B-%Y").date()
                for column, value in row.items():
                    name = column.lower()
                    if "over 4hrs" in name:
                        by_provider[(row["Org Code"], month)][1] += int(value)
                    elif "attendances" in name:
                        by_provider[(row["Org Code"], month)][0] += int(value)
    return by_provider


@pytest.mark.slow
def test_every_month_of_the_real_files_every_region_local_system_and_england_is_the_exact_sum(ae):
    """April 2016 to March 2019: each region's, local health system's and England's 4-hour figure is
    100 × (1 − Σ over 4 hours ÷ Σ attendances) of the providers in the files, the region and the local system as
    the ODS file of trusts gives them."""
    call_command("load_reference", stdout=io.StringIO())
    import_ods(DATA / "ods" / "etr.csv", "trusts")
    assert len(AE_FILES) == 36
    streams = [(path.name, path.open("rb")) for path in AE_FILES]
    try:
        result = import_statistics(streams, "ae")
    finally:
        for _, stream in streams:
            stream.close()
    assert result.lines == 8298 and result.total_lines == 36

    trusts = {row[0]: (row[2], row[3]) for row in csv.reader((DATA / "ods" / "etr.csv").open())}
    systems = {row["stp_ods_code"] for row in csv.DictReader((DATA / "ods" / "stps.csv").open())}
    expected = defaultdict(lambda: [0, 0])
    for (code, month), (attendances, over) in oracle(AE_FILES).items():
        areas = [("england", "")]
        if code in trusts:
            region, system = trusts[code]
            areas += [("region", region)] + ([("local_system", system)] if system in systems else [])
        for area in areas:
            expected[(area, month)][0] += attendances
            expected[(area, month)][1] += over
    held = {}
    for m in Measurement.every_level.filter(measure=ae, organisation__isnull=True).select_related(
        "region", "local_system"
    ):
        if m.region:
            area = ("region", m.region.ods_code)
        elif m.local_system:
            area = ("local_system", m.local_system.ods_code)
        else:
            area = ("england", "")
        held[(area, m.month)] = m
    assert {key for key in expected if expected[key][0]} == set(held)
    months = {month for _, month in expected}
    assert len(months) == 36
    regions = {area for area, _ in expected if area[0] == "region"}
    assert len(regions) == 7
    for key, (attendances, over) in expected.items():
        if not attendances:
            continue
        m = held[key]
        assert round(float(m.value) - 100 * (1 - over / attendances), 2) == 0, key  # equal to 2 decimal places
        assert (m.numerator, m.denominator) == (attendances - over, attendances), key
