"""A record chosen from a long list, in a real Chromium: suggestions asked for as people type, chosen by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def world(db, settings):
    settings.AUTOCOMPLETE_INLINE_LIMIT = 3  # fewer programmes than there are: the list is asked for
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse])
    urgent = f.ProgrammeFactory(title="Urgent and emergency care", slug="urgent-emergency-care", bodies=[nhse])
    cancer = f.ProgrammeFactory(title="Cancer screening", slug="cancer-screening", bodies=[nhse])
    for i in range(4):
        f.ProgrammeFactory(title=f"Other programme {i}", bodies=[nhse])
    f.WorkstreamFactory(programme=urgent, title="Winter discharge", body=nhse)
    f.WorkstreamFactory(programme=cancer, title="Bowel screening age", body=nhse)
    return {"urgent": urgent}


def test_a_programme_is_found_as_typed_and_chosen_by_keyboard(new_page, world):
    page = new_page()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/suggest/" in request.url else None)
    sign_in(page, "sam.staff", next_path="/workstreams/")
    expect(page.get_by_role("heading", name="Workstreams", exact=True)).to_be_visible()
    select = page.locator("select[name=programme]")
    assert select.locator("option").count() == 1  # only "Any programme": the others are asked for

    box = page.get_by_label("Programme", exact=True)
    expect(box).to_have_attribute("role", "combobox")
    box.press_sequentially("urg", delay=50)
    listbox = page.locator("#id_programme__listbox")
    expect(listbox.get_by_role("option", name="Urgent and emergency care")).to_be_visible()
    assert listbox.get_by_role("option").count() == 1
    assert len(asked) <= 2, asked  # typing three letters asks once or twice, not once a letter
    assert_accessible(page, "workstreams with suggestions open")
    page.keyboard.press("ArrowDown")  # to the suggestion, as a person would, then choose it
    page.keyboard.press("Enter")
    expect(box).to_have_value("Urgent and emergency care")
    expect(select).to_have_value("urgent-emergency-care")

    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]programme=urgent-emergency-care(&|$)"))
    results = page.locator("main table")
    expect(results).to_contain_text("Winter discharge")
    expect(results).not_to_contain_text("Bowel screening age")
    # The chosen programme is shown again, drawn in the page.
    expect(page.get_by_label("Programme", exact=True)).to_have_value("Urgent and emergency care")


def test_no_suggestions_when_the_answer_fails(new_page, world):
    page = new_page()
    sign_in(page, "sam.staff", next_path="/workstreams/")
    page.route("**/suggest/**", lambda route: route.fulfill(status=500, body="broken"))
    box = page.get_by_role("combobox", name="Programme", exact=True)  # once the script has made the box
    box.press_sequentially("urg", delay=50)
    expect(page.get_by_text("No results found")).to_be_visible()


@pytest.mark.parametrize("limit", [3, 200], ids=["asked-for", "in-the-page"])
def test_a_name_with_markup_is_suggested_as_text(new_page, world, settings, limit):
    settings.AUTOCOMPLETE_INLINE_LIMIT = limit
    f.ProgrammeFactory(title="Care <b>bold</b> plan", slug="bold-plan")
    page = new_page()
    sign_in(page, "sam.staff", next_path="/workstreams/")
    box = page.get_by_role("combobox", name="Programme", exact=True)  # once the script has made the box
    box.press_sequentially("bold", delay=50)
    listbox = page.locator("#id_programme__listbox")
    expect(listbox.get_by_role("option", name="Care <b>bold</b> plan")).to_be_visible()
    assert listbox.locator("b").count() == 0
