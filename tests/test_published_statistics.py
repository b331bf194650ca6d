"""Reading NHS England's published statistics files: columns known by their published names, in any order."""

import csv
import datetime as dt
import io

import pytest

from measures import published
from measures.layouts import AE_MONTHLY, LAYOUTS
from measures.published import PublishedFileError, parse_count, parse_period, read_published

CURRENT = [
    "Period",
    "Org Code",
    "Parent Org",
    "Org name",
    "A&E attendances Type 1",
    "A&E attendances Type 2",
    "A&E attendances Other A&E Department",
    "Attendances over 4hrs Type 1",
    "Attendances over 4hrs Type 2",
    "Attendances over 4hrs Other Department",
    "Patients who have waited 4-12 hs from DTA to admission",
    "Patients who have waited 12+ hrs from DTA to admission",
    "Emergency admissions via A&E - Type 1",
    "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department",
    "Other emergency admissions",
]
EARLIER = [
    "Period",
    "Org Code",
    "Parent Org",
    "Org name",
    "Number of A&E attendances Type 1",
    "Number of A&E attendances Type 2",
    "Number of A&E attendances Other A&E Department",
    "Number of attendances over 4hrs Type 1",
    "Number of attendances over 4hrs Type 2",
    "Number of attendances over 4hrs Other A&E Department",
    "Patients who have waited 4-12 hs from DTA to admission",
    "Patients who have waited 12+ hrs from DTA to admission",
    "Emergency admissions via A&E - Type 1",
    "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department",
    "Other emergency admissions",
]
BOOKED = [
    *CURRENT[:7],
    "A&E attendances Booked Appointments Type 1",
    "A&E attendances Booked Appointments Type 2",
    "A&E attendances Booked Appointments Other Department",
    *CURRENT[7:10],
    "Attendances over 4hrs Booked Appointments Type 1",
    "Attendances over 4hrs Booked Appointments Type 2",
    "Attendances over 4hrs Booked Appointments Other Department",
    *CURRENT[10:],
]


def provider(header, period, code, name, attendances, breaches, parent="NHS ENGLAND LONDON"):
    """One provider's line in ``header``'s order: ``attendances`` and ``breaches`` are (type 1, type 2, other)."""
    row = {"Period": period, "Org Code": code, "Parent Org": parent, "Org name": name}
    att = [c for c in header if "attendances" in c.lower() and "over 4hrs" not in c.lower() and "Booked" not in c]
    over = [c for c in header if "over 4hrs" in c.lower() and "Booked" not in c]
    row.update(zip(att, attendances))
    row.update(zip(over, breaches))
    return [row.get(column, "0") for column in header]


def written(header, rows, *, blank_lines=0, total=True, quoting=csv.QUOTE_MINIMAL):
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    for _ in range(blank_lines):
        out.write("\r\n")
    if total:
        named = {"Period": "TOTAL", "Org Code": "-", "Parent Org": "-", "Org name": "Total"}
        writer.writerow([named.get(column, "999999") for column in header])
    return io.BytesIO(out.getvalue().encode("utf-8"))


def test_the_current_header_with_its_total_row_blank_lines_and_thousands_separators():
    rows = [
        provider(
            CURRENT,
            "MSitAE-MARCH-2019",
            "R1H",
            "BARTS HEALTH NHS TRUST",
            ("30,210", "807", "2,850"),
            ("5,902", "11", "6"),
        ),
        provider(
            CURRENT,
            "MSitAE-MARCH-2019",
            "RF4",
            "BARKING, HAVERING AND REDBRIDGE",
            ("21289", "813", "0"),
            ("2879", "22", "0"),
        ),
    ]
    parsed = read_published(written(CURRENT, rows, blank_lines=2), LAYOUTS.values(), "March.csv")
    assert parsed.layout is AE_MONTHLY
    assert parsed.version.name == "A&E attendances …"
    assert [(p.line, p.ods_code, p.month) for p in parsed.lines] == [
        (2, "R1H", dt.date(2019, 3, 1)),
        (3, "RF4", dt.date(2019, 3, 1)),
    ]
    barts = parsed.lines[0]
    assert barts.counts == {"attendances": 30210 + 807 + 2850, "breaches": 5902 + 11 + 6}
    assert (barts.numerator, barts.denominator) == (33867 - 5919, 33867)
    assert parsed.total_lines == [6]  # after the two blank lines; never imported as a provider


def test_columns_are_found_by_their_names_in_any_order():
    order = list(reversed(CURRENT))
    rows = [provider(order, "MSitAE-APRIL-2018", "R1H", "BARTS", ("100", "10", "1"), ("20", "1", "0"))]
    parsed = read_published(written(order, rows), LAYOUTS.values())
    assert parsed.lines[0].counts == {"attendances": 111, "breaches": 21}


def test_the_earlier_header_number_of_a_and_e_attendances():
    rows = [provider(EARLIER, "MSitAE-APRIL-2016", "RF4", "BHR", ("21289", "813", "2850"), ("2879", "22", "6"))]
    parsed = read_published(written(EARLIER, rows), LAYOUTS.values())
    assert parsed.version.name == "Number of A&E attendances …"
    assert parsed.lines[0].counts == {"attendances": 24952, "breaches": 2907}
    assert parsed.months == [dt.date(2016, 4, 1)]


def test_booked_appointments_count_when_the_file_has_them():
    row = provider(BOOKED, "MSitAE-JANUARY-2024", "R1H", "BARTS", ("100", "10", "1"), ("20", "1", "0"))
    row[BOOKED.index("A&E attendances Booked Appointments Type 1")] = "5"
    row[BOOKED.index("Attendances over 4hrs Booked Appointments Type 1")] = "2"
    parsed = read_published(written(BOOKED, [row]), LAYOUTS.values())
    assert parsed.version.name == "with booked appointments"
    assert parsed.lines[0].counts == {"attendances": 116, "breaches": 23}


def test_quoted_numbers_and_a_byte_order_mark():
    rows = [provider(CURRENT, "MSitAE-MAY-2018", "R1H", "BARTS", ("1,000", "0", "0"), ("100", "0", "0"))]
    stream = written(CURRENT, rows, quoting=csv.QUOTE_ALL)
    parsed = read_published(io.BytesIO(b"\xef\xbb\xbf" + stream.getvalue()), LAYOUTS.values())
    assert parsed.lines[0].counts == {"attendances": 1000, "breaches": 100}


def test_a_header_that_is_no_published_layout_is_refused_naming_the_columns_it_needs():
    stream = io.BytesIO(b"measure,region,month,value\r\nae-4hr,Y56,2019-03,87.1\r\n")
    with pytest.raises(PublishedFileError) as refused:
        read_published(stream, LAYOUTS.values(), "mine.csv")
    message = str(refused.value)
    assert message.startswith("mine.csv: line 1: the header row is not one of a published file")
    assert "Attendances over 4hrs Type 1" in message and "Number of A&E attendances Type 1" in message


def test_every_bad_cell_is_named_by_its_line_and_column():
    rows = [
        provider(CURRENT, "MSitAE-MARCH-2019", "R1H", "BARTS", ("12x", "0", "0"), ("1", "0", "0")),
        provider(CURRENT, "MSitAE-SMARCH-2019", "RF4", "BHR", ("10", "0", "0"), ("1", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "", "NO CODE", ("10", "0", "0"), ("1", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "RQM", "MORE OVER THAN IN", ("10", "0", "0"), ("11", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "RAL", "ROYAL FREE", ("10", "0", "0"), ("1", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "ral", "ROYAL FREE AGAIN", ("10", "0", "0"), ("1", "0", "0")),
    ]
    with pytest.raises(PublishedFileError) as refused:
        read_published(written(CURRENT, rows), LAYOUTS.values(), "March.csv")
    assert refused.value.errors == [
        "March.csv: line 2, column “A&E attendances Type 1”: “12x” is not a whole number.",
        "March.csv: line 3, column “Period”: “MSitAE-SMARCH-2019” is not a month (“Smarch” is not a month).",
        "March.csv: line 4, column “Org Code”: no ODS code.",
        "March.csv: line 5: the counts make -1 of 10 (attendances 10, breaches 11); a part cannot be more than the whole.",
        "March.csv: line 7: RAL for March 2019 is already on line 6.",
    ]


def test_a_file_longer_than_the_bound_is_refused_without_reading_on(monkeypatch):
    monkeypatch.setattr(published, "MAX_LINES", 3)
    rows = [
        provider(CURRENT, "MSitAE-MARCH-2019", code, "X", ("10", "0", "0"), ("1", "0", "0"))
        for code in ("R1H", "RF4", "RQM", "RAL")
    ]
    with pytest.raises(PublishedFileError) as refused:
        read_published(written(CURRENT, rows, total=False), LAYOUTS.values(), "big.csv")
    assert refused.value.errors == ["big.csv: more than 3 lines; split the file by month."]


def test_a_file_of_only_a_header_and_its_total_is_refused():
    with pytest.raises(PublishedFileError, match="has the published header but no providers' lines"):
        read_published(written(CURRENT, []), LAYOUTS.values())


@pytest.mark.parametrize(
    "text, month",
    [
        ("MSitAE-MARCH-2019", dt.date(2019, 3, 1)),
        ("MSitAE-april-2016", dt.date(2016, 4, 1)),
        ("March 2019", dt.date(2019, 3, 1)),
        ("MAR-19", dt.date(2019, 3, 1)),
        ("2019-03", dt.date(2019, 3, 1)),
    ],
)
def test_periods_as_published(text, month):
    assert parse_period(text) == month


@pytest.mark.parametrize("text", ["MSitAE-2019", "2019-13", "Q4 2018-19", ""])
def test_what_is_not_a_period(text):
    with pytest.raises(ValueError):
        parse_period(text)


@pytest.mark.parametrize(
    "text, value", [("1234", 1234), ("1,234", 1234), (" 12,345,678 ", 12345678), (" 7.0", 7), ("", 0), ("-", 0)]
)
def test_counts_as_published(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["12,34", "1.5", "-3", "1e3", "12x"])
def test_what_is_not_a_count(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_areas_are_exact_sums_of_their_providers_counts_and_an_unknown_provider_counts_into_england_only():
    march = [
        provider(CURRENT, "MSitAE-MARCH-2019", "R1H", "BARTS", ("900", "0", "100"), ("100", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "RF4", "BHR", ("10", "0", "0"), ("5", "0", "0")),
        provider(CURRENT, "MSitAE-MARCH-2019", "NLO01", "A WALK-IN CENTRE", ("90", "0", "0"), ("0", "0", "0")),
    ]
    parsed = read_published(written(CURRENT, march), LAYOUTS.values(), "March.csv")
    providers = {
        "R1H": published.Provider(organisation=1, local_system=10, region=100),
        "RF4": published.Provider(organisation=2, local_system=11, region=100),
    }
    sums = published.sum_by_area([parsed], providers)
    month = dt.date(2019, 3, 1)
    assert sums.figures == {
        (published.ENGLAND, month): [900 + 5 + 90, 1000 + 10 + 90],
        (("organisation", 1), month): [900, 1000],
        (("local_system", 10), month): [900, 1000],
        (("region", 100), month): [905, 1010],
        (("organisation", 2), month): [5, 10],
        (("local_system", 11), month): [5, 10],
    }
    # The average of the two trusts' rates (90% and 50%) would be 70%; the region's figure is 905 of 1,010.
    assert sums.unknown == [("March.csv", 4, "NLO01", "A WALK-IN CENTRE")]


def test_a_provider_and_month_in_two_files_is_refused_naming_both():
    march = [provider(CURRENT, "MSitAE-MARCH-2019", "R1H", "BARTS", ("10", "0", "0"), ("1", "0", "0"))]
    first = read_published(written(CURRENT, march), LAYOUTS.values(), "a.csv")
    second = read_published(written(CURRENT, march), LAYOUTS.values(), "b.csv")
    with pytest.raises(PublishedFileError) as refused:
        published.sum_by_area([first, second], {})
    assert refused.value.errors == ["b.csv: line 2: R1H for March 2019 is also in a.csv, line 2."]
