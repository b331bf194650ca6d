"""The header's navigation on a phone, and the glossary, status and signed-out API pages, in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def staff(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    return f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse])


def test_on_a_phone_the_header_navigation_reaches_every_list(new_page, staff):
    page = new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, "sam.staff", next_path="/glossary/")
    expect(page.get_by_role("heading", name="Glossary", exact=True)).to_be_visible()
    # The NHS.UK header moves what does not fit behind its "More" button; a keyboard reaches it too.
    more = page.locator("#toggle-menu")
    expect(more).to_be_visible()
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    people = page.locator("header").get_by_role("link", name="People", exact=True)
    expect(people).to_be_visible()
    people.click()
    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page).to_have_title("People – NHS Joint Working Portal")
    assert_accessible(page, "people on a phone")


def test_the_glossary_and_status_pages_are_accessible(new_page, staff):
    page = new_page()
    sign_in(page, "sam.staff", next_path="/glossary/")
    expect(page.get_by_text("Special cause variation", exact=True)).to_be_visible()
    assert_accessible(page, "glossary")
    page.goto("/status/")
    expect(page.get_by_role("heading", name="Service status")).to_be_visible()
    # The design system's inline script ran (the page gave it its nonce): the Content Security Policy let it.
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
    assert_accessible(page, "status")


def test_signed_out_the_api_documentation_link_leads_to_sign_in_and_back(new_page, staff):
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="API documentation").click()
    expect(page.get_by_role("heading", name="Sign in to see the API documentation")).to_be_visible()
    assert_accessible(page, "API documentation, signed out")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Username").fill("sam.staff")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/api/docs/$"))
