"""A Regional director's dashboard and the national overview, in a real Chromium."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from tests import factories as f

from .conftest import assert_accessible, follow_header_link, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def region(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands", slug="midlands")
    f.RegionFactory(ods_code="Y56", name="London", short_name="London", slug="london")
    person = f.PersonFactory(name="Dele Adeyemi")
    post = f.AppointmentFactory(
        person=person,
        role=Appointment.Role.REGIONAL_DIRECTOR,
        region=midlands,
        title="Regional Director, Midlands",
        start_date=dt.date(2019, 4, 1),
    )
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=50)
    programme = f.ProgrammeFactory(
        title="Urgent and emergency care", bodies=[nhse, nhsi], accountable_body=nhse, status="active"
    )
    f.RegionalDeliveryFactory(programme=programme, region=midlands, rag="amber", note="Behind plan in two systems.")
    ae = f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", standard=95)
    f.ProgrammeMeasureFactory(programme=programme, measure=ae, target=95)
    for i in range(30):
        month = dt.date(2018 + (3 + i) // 12, (3 + i) % 12 + 1, 1)
        f.MeasurementFactory(measure=ae, region=midlands, month=month, value=86 + (i % 4) + (3 if i > 22 else 0))
    f.UserFactory(
        username="dele.director",
        first_name="Dele",
        last_name="Adeyemi",
        role="Regional director",
        bodies=[nhse, nhsi],
        region=midlands,
    )
    return midlands


def test_a_regional_director_lands_on_their_region_and_reads_a_chart_as_a_table(new_page, region):
    page = new_page()
    sign_in(page, "dele.director")
    expect(page).to_have_url(re.compile(r"/regions/Y60/$"))  # their home: their region's dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text("Midlands")
    expect(page.locator("#director ~ dl")).to_contain_text("Dele Adeyemi")
    expect(page.locator("#director ~ dl")).to_contain_text("Joint")
    chart = page.get_by_role("img", name="A&E attendances seen within 4 hours, Midlands")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name=re.compile(r"^A&E attendances seen within 4 hours, Midlands"))
    expect(table).to_be_hidden()
    page.get_by_text("Show the data as a table").click()
    expect(table).to_be_visible()
    # The dashboard shows the latest 24 months unless another window is chosen.
    expect(table.get_by_role("row")).to_have_count(25)  # a header row and one row per month
    expect(table).to_contain_text("October 2018")
    assert_accessible(page, "regional dashboard")
    page.get_by_label("Months shown").select_option("36")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"/regions/Y60/\?months=36$"))
    page.get_by_text("Show the data as a table").click()
    expect(table.get_by_role("row")).to_have_count(31)  # all 30 months
    expect(table).to_contain_text("April 2018")


def test_the_national_overview_links_into_each_region(new_page, region):
    page = new_page()
    sign_in(page, "dele.director")
    follow_header_link(page, "Regions")
    expect(page.get_by_role("heading", level=1)).to_have_text("The seven regions")
    overview = page.get_by_role("table", name=re.compile("headline measures"))
    expect(overview.get_by_role("row")).to_have_count(3)  # a header row and the two active regions
    assert_accessible(page, "national overview")
    overview.get_by_role("link", name="London").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("London")


def test_on_a_phone_the_summary_comes_first_without_sideways_scrolling_and_prints_without_the_furniture(
    new_page, region
):
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 740})  # a phone
    sign_in(page, "dele.director")
    expect(page).to_have_url(re.compile(r"/regions/Y60/$"))  # their home: their region's dashboard
    summary = page.get_by_role("table", name=re.compile("^Every agreed measure"))
    expect(summary).to_be_visible()
    expect(
        summary.get_by_role("img", name=re.compile(r"^A&E attendances seen within 4 hours: 24 months"))
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "regional dashboard on a phone")
    # The whole history, then a measure's own page, still without sideways scrolling.
    page.get_by_label("Months shown").select_option("all")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"/regions/Y60/\?months=all$"))
    expect(summary.get_by_role("img", name=re.compile(r"30 months"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Printed: no header, navigation, footer or forms; the summary and the charts stay.
    page.emulate_media(media="print")
    expect(page.locator("header.nhsuk-header")).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(page.get_by_label("Months shown")).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile("Download as PDF"))).to_be_hidden()
    expect(summary).to_be_visible()
    expect(page.get_by_role("img", name="A&E attendances seen within 4 hours, Midlands")).to_be_visible()
    page.emulate_media(media="screen")
    summary.get_by_role("link", name="A&E attendances seen within 4 hours").click()
    expect(page).to_have_url(re.compile(r"/regions/Y60/measures/ae-4hr/\?months=all$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "a measure's chart on a phone")


def test_a_director_corrects_a_months_figure_from_the_regions_chart_with_a_reason(new_page, region):
    page = new_page()
    sign_in(page, "dele.director", next_path="/regions/Y60/measures/ae-4hr/")
    page.get_by_label("Month", exact=True).select_option(label="September 2020: 90.0%")  # figures carry their unit
    page.get_by_role("button", name="Correct this month's figure").click()
    expect(page).to_have_url(re.compile(r"/measurements/\d+/edit/$"))
    assert_accessible(page, "correcting a figure")
    page.get_by_label("Corrected value").fill("91.5")
    page.get_by_role("button", name=re.compile("Save")).click()
    # No reason: the error names the field and links to it; nothing is saved.
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the reason for the correction.")
    expect(page.get_by_label("Corrected value")).to_have_value("91.5")
    assert_accessible(page, "a correction without a reason")
    summary.get_by_role("link", name="Enter the reason for the correction.").click()
    expect(page.get_by_label("Reason for the correction")).to_be_focused()
    page.keyboard.type("Revised in the published statistics")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="Changes to this figure")).to_be_visible()
    changes = page.get_by_role("table", name="Changes to this figure")
    expect(changes).to_contain_text("90 to 91.5")
    expect(changes).to_contain_text("Revised in the published statistics")
    expect(changes).to_contain_text("Dele Adeyemi")
