"""The header's search box, by keyboard, and the results page, in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def staff(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    programme = f.ProgrammeFactory(title="Urgent and emergency care", bodies=[nhse])
    f.WorkstreamFactory(programme=programme, title="Discharge to assess", body=nhse)
    return f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse])


def test_the_header_search_by_keyboard_finds_what_an_abbreviation_stands_for(new_page, staff):
    page = new_page()
    sign_in(page, "sam.staff", next_path="/glossary/")
    box = page.locator("header").get_by_label("Search the portal")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.type("UEC")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=UEC$"))
    expect(page).to_have_title("Search results for UEC – NHS Joint Working Portal")
    # The programme, and its workstream by the programme's name; the matched words marked.
    first = page.locator(".portal-search__result").first
    expect(first.get_by_role("link", name="Urgent and emergency care")).to_be_visible()
    expect(page.get_by_role("link", name="Discharge to assess")).to_be_visible()
    expect(page.locator(".portal-search__result mark").first).to_be_visible()
    assert_accessible(page, "search results")
    # One kind at a time, from the list of kinds, by keyboard.
    page.get_by_role("link", name="Workstreams (1)").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"kind=workstream"))
    expect(page.locator(".portal-search__result")).to_have_count(1)
    # The page's own box, labelled, searches again.
    page.get_by_label("Search programmes, workstreams").fill("dischrage")
    page.get_by_label("Search programmes, workstreams").press("Enter")
    expect(page.get_by_role("link", name="Discharge to assess")).to_be_visible()
    assert_accessible(page, "search results for a near spelling")
