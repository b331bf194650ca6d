"""Journeys of NHS staff through the portal, in a real Chromium."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from programmes.models import Programme
from tests import factories as f

from .conftest import assert_accessible, follow_header_link, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def world(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London", slug="london")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands", slug="midlands")
    staff = f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse, nhsi])
    admin = f.UserFactory(username="ada.admin", role="Administrator", bodies=[nhse])
    uec = f.ProgrammeFactory(
        title="Urgent and emergency care",
        slug="urgent-emergency-care",
        theme="urgent-care",
        summary="Winter planning and A&E performance",
        bodies=[nhse, nhsi],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
        status="active",
    )
    for i in range(8):
        f.ProgrammeFactory(title=f"Other programme {i}", bodies=[nhsi], accountable_body=nhsi, status="proposed")
    f.WorkstreamFactory(programme=uec, title="Winter discharge", body=nhse, regions=[london])
    delivery = f.RegionalDeliveryFactory(programme=uec, region=london)
    return {
        "nhse": nhse,
        "nhsi": nhsi,
        "london": london,
        "midlands": midlands,
        "staff": staff,
        "admin": admin,
        "uec": uec,
        "delivery": delivery,
    }


def test_staff_find_edit_and_see_history(new_page, world):
    page = new_page()
    page.goto("/programmes/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/programmes/"))
    sign_in(page, "sam.staff", next_path="/programmes/")
    expect(page.get_by_role("heading", name="Programmes", exact=True)).to_be_visible()
    assert_accessible(page, "programme list")

    # Find it by search and filter.
    page.get_by_role("textbox", name="Search", exact=True).fill("emergency")  # the list's box, not the header's
    page.get_by_label("Active", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".portal-count")).to_contain_text("Showing 1 programme.")
    page.get_by_role("link", name="Urgent and emergency care").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Urgent and emergency care")
    expect(page.get_by_role("heading", name="Workstreams")).to_be_visible()
    assert_accessible(page, "programme detail")

    # An end date before the start date is refused with the error summary.
    page.get_by_role("link", name="Edit").click()
    page.locator("#id_end_date-day").fill("31")
    page.locator("#id_end_date-month").fill("3")
    page.locator("#id_end_date-year").fill("2018")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        "The end date must be the same as or after the start date (1 April 2018)."
    )
    assert page.title().startswith("Error: ")
    assert_accessible(page, "form with errors")
    summary.get_by_role("link").click()
    expect(page.locator("#id_end_date-day")).to_be_focused()

    # Correct it and save.
    page.locator("#id_end_date-year").fill("2020")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".portal-message").first).to_contain_text(
        "Your changes to “Urgent and emergency care” have been saved."
    )
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("1 April 2018 to 31 March 2020")

    # The change is in its history.
    page.get_by_role("link", name="History").click()
    expect(page.locator("table")).to_contain_text("Sam Staff")
    expect(page.locator("table")).to_contain_text("End date: set to “31 March 2020”")
    assert_accessible(page, "history")


def test_a_resubmit_keeps_the_other_editors_change_to_fields_you_did_not_touch(new_page, world):
    first, second = new_page(), new_page()
    for page in (first, second):
        sign_in(page, "sam.staff", next_path="/programmes/urgent-emergency-care/edit/")
    first.get_by_label("Theme").select_option(label="Integrated care systems")  # themes come from one list
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".portal-message").first).to_contain_text("have been saved")

    second.get_by_label("Summary").fill("My different summary")
    second.get_by_role("button", name="Save").click()
    expect(second.locator(".portal-message").first).to_contain_text(
        "Changes made meanwhile by others were kept: Theme."
    )
    programme = Programme.objects.get(slug="urgent-emergency-care")
    assert (programme.theme, programme.summary) == ("systems", "My different summary")


def test_a_same_field_conflict_asks_which_value_to_keep(new_page, world):
    first, second = new_page(), new_page()
    for page in (first, second):
        sign_in(page, "sam.staff", next_path="/programmes/urgent-emergency-care/edit/")
    first.get_by_label("Title").fill("Urgent and emergency care (one team)")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Urgent and emergency care (one team)")

    second.get_by_label("Title").fill("Urgent and emergency care programme")
    second.get_by_label("Summary").fill("Winter, A&E and flow")
    second.get_by_role("button", name="Save").click()
    warning = second.locator("#conflict")
    expect(warning).to_contain_text("Someone else changed this programme")
    expect(warning).to_contain_text(
        "Sam Staff changed Title from “Urgent and emergency care” to “Urgent and emergency care (one team)”"
    )
    expect(second.get_by_role("group", name="Which title should be saved?")).to_be_visible()
    assert_accessible(second, "conflict")
    # Saving without choosing asks again and writes nothing.
    second.get_by_role("button", name="Save").click()
    expect(second.locator(".nhsuk-error-summary")).to_contain_text("Select which title to keep.")
    assert Programme.objects.get(slug="urgent-emergency-care").summary == "Winter planning and A&E performance"

    second.get_by_label("Theirs, saved now: “Urgent and emergency care (one team)”").check()
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Urgent and emergency care (one team)")
    programme = Programme.objects.get(slug="urgent-emergency-care")
    assert (programme.title, programme.summary) == ("Urgent and emergency care (one team)", "Winter, A&E and flow")


def test_a_save_that_changes_nothing_writes_nothing(new_page, world):
    page = new_page()
    before = Programme.history.filter(id=world["uec"].pk).count()
    sign_in(page, "sam.staff", next_path="/programmes/urgent-emergency-care/edit/")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".portal-message").first).to_contain_text("Nothing changed")
    assert Programme.history.filter(id=world["uec"].pk).count() == before


def test_administrator_creates_a_regional_director_who_lands_on_their_region(new_page, world):
    admin = new_page()
    sign_in(admin, "ada.admin")
    follow_header_link(admin, "Users")
    admin.get_by_role("link", name="Add a user").click()
    admin.get_by_label("Username").fill("lee.director")
    admin.get_by_label("First name").fill("Lee")
    admin.get_by_label("Last name").fill("Director")
    admin.get_by_label("Email address").fill("lee.director@example.nhs.uk")
    admin.get_by_label("NHS England").check()
    admin.get_by_label("NHS Improvement").check()
    admin.get_by_label("Region", exact=True).select_option(label="Midlands")
    admin.get_by_label("Regional director").check()
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Lee Director")
    admin.get_by_role("link", name="Set a one-time password").click()
    admin.get_by_role("button", name="Set a one-time password").click()
    password = admin.locator("#one-time-password").inner_text().strip()

    director = new_page()
    sign_in(director, "lee.director", password=password)
    expect(director.get_by_role("heading", level=1)).to_have_text("Change your password")
    director.get_by_label("Old password").fill(password)
    director.get_by_label("New password", exact=True).fill("midlands-director-2019")
    director.get_by_label("Confirm new password").fill("midlands-director-2019")
    director.get_by_role("button", name="Change password").click()
    expect(director).to_have_url(re.compile(r"/regions/Y60/$"))  # a director's home: their region's page
    expect(director.get_by_role("heading", level=1)).to_have_text("Midlands")
    expect(director.get_by_role("heading", name="What needs you in Midlands")).to_be_visible()
    assert User.objects.get(username="lee.director").must_change_password is False
    assert_accessible(director, "regional page")


def test_staff_trying_a_regional_directors_edit_get_403(new_page, world):
    page = new_page()
    sign_in(page, "sam.staff")
    response = page.goto(f"/regional-deliveries/{world['delivery'].pk}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot do this")
    expect(page.locator("#reason")).to_contain_text("Only the Regional director")


def test_home_page_is_accessible(new_page, world):
    page = new_page()
    sign_in(page, "sam.staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")  # the home of Staff
    assert_accessible(page, "home")
