"""What is asked of a trust, beside its own latest figure and icons: the page, the CSV and the PDF letter."""

import csv
import datetime as dt
import io
import shutil
import subprocess
from html import unescape

import pytest

from measures.statistics_import import import_statistics
from tests import factories as f
from tests.test_statistics_import import london, march  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

# Barts' attendances and attendances over 4 hours, type 1: each month worse than 95% within 4 hours.
MONTHS = [
    ("MSitAE-JANUARY-2019", ("30,000", "0", "0"), ("4,500", "0", "0")),  # 85.0%
    ("MSitAE-FEBRUARY-2019", ("30,000", "0", "0"), ("4,650", "0", "0")),  # 84.5%
    ("MSitAE-MARCH-2019", ("30,000", "0", "0"), ("4,800", "0", "0")),  # 84.0%
]


@pytest.fixture
def asked(nhse, london):  # noqa: F811 - the fixture imported above
    ae = f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", unit="percent", standard=95)
    for period, attendances, over in MONTHS:
        import_statistics([(f"{period}.csv", march(barts=attendances, barts_over=over, period=period))], "ae")
    programme = f.ProgrammeFactory(title="Urgent and emergency care")
    f.ExpectationFactory(
        programme=programme,
        issued_by=nhse,
        measure=ae,
        comparator=">=",
        target=95,
        stage="agreed",
        start_date=dt.date(2018, 4, 1),
        due_date=dt.date(2019, 3, 31),
    )
    f.ExpectationFactory(
        programme=programme,
        issued_by=nhse,
        measure=ae,
        comparator=">=",
        target=80,
        stage="agreed",
        start_date=dt.date(2018, 4, 1),
        due_date=dt.date(2019, 3, 31),
        wording="An interim floor.",
    )
    return london.organisations.get(ods_code="R1H")


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


def test_the_asks_page_shows_the_trusts_own_figure_its_icons_and_which_ask_is_not_met(client, asked, staff):
    client.force_login(staff)
    response = client.get(f"/organisations/{asked.ods_code}/asks/?year=2018")
    assert response.status_code == 200
    text = " ".join(unescape(response.content.decode()).split())
    assert "Latest figure for Barts Health NHS Trust itself: <strong>84.0%</strong> (March 2019)" in text
    assert "Common cause" in text or "Concern (lower)" in text  # the variation icon, in words
    assert "Fails target" in text  # the assurance icon: 95% is above the upper process limit (about 85.3)
    assert 'Not met</strong> <span class="nhsuk-body-s">Not met: 84.0% in March 2019, asked at least 95%.' in text
    assert "Met: 84.0% in March 2019, asked at least 80%." in text
    # The region's figure is still given, as the region's.
    assert "Latest figure for London:" in text


def test_the_csv_gives_the_own_figure_icons_and_whether_each_ask_is_met(client, asked, staff):
    client.force_login(staff)
    response = client.get(f"/organisations/{asked.ods_code}/asks/?year=2018&export=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    shown = [
        (r["Target (number)"], r["Own latest figure"], r["Own latest figure month"], r["Met by the own latest figure"])
        for r in rows
    ]
    assert shown == [("95", "84", "2019-03", "no"), ("80", "84", "2019-03", "yes")]  # in the order they were made
    assert {r["Assurance"] for r in rows} == {"Fails target"}
    assert all(r["Variation"] for r in rows)


def test_the_pdf_letter_says_the_trusts_own_figure_and_that_the_ask_is_not_met(client, asked, staff):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed to read the letter back")
    client.force_login(staff)
    response = client.get(f"/organisations/{asked.ods_code}/asks/letter.pdf?year=2018")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True).stdout
    flat = " ".join(text.decode().split())
    assert "yours 84.0% (Mar 2019)" in flat
    assert "Fails target" in flat
    assert "Not met" in flat and flat.count("Not met") == 1  # the 95% ask; the 80% one is met
    assert "London" in flat
