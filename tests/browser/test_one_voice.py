"""A partner, in the browser: their organisation's asks and a consultation, by keyboard and on a phone, with axe."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from asks.models import ExpectationResponse
from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def world(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    region = f.RegionFactory(name="London", short_name="London")
    trust = f.OrganisationFactory(region=region, name="Riverside NHS Trust")
    programme = f.ProgrammeFactory(title="Urgent and emergency care", bodies=[nhse], accountable_body=nhse)
    measure = f.MeasureFactory(code="ae-4hr", name="A&E: seen within four hours", unit="percent")
    ask = f.ExpectationFactory(
        programme=programme,
        issued_by=nhse,
        measure=measure,
        target=95,
        stage="consultation",
        consultation_closes=dt.date.today() + dt.timedelta(days=10),
        due_date=dt.date(2100, 3, 31),
    )
    partner = f.UserFactory(role="Partner", username="pat.partner", organisation=trust)
    return {"trust": trust, "ask": ask, "partner": partner}


def test_a_partner_lands_on_their_asks_and_responds_by_keyboard(new_page, world):
    page = new_page()
    sign_in(page, "pat.partner")
    # Their home is their organisation's page, a link away from what is asked of it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Riverside NHS Trust")
    page.get_by_role("link", name="What is asked of Riverside NHS Trust", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("What is asked of Riverside NHS Trust")
    expect(page.locator(f'tr[data-expectation="{world["ask"].pk}"]')).to_contain_text("at least 95")
    assert_accessible(page, "a partner's asks page")

    page.get_by_role("link", name="In consultation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("A&E: seen within four hours")
    assert_accessible(page, "consultation")

    # By keyboard: choose "concerns", send without a comment, follow the error to the field.
    page.get_by_label("We have concerns").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Send response").focus()
    page.keyboard.press("Enter")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter your concerns")
    assert page.title().startswith("Error: ")
    assert_accessible(page, "response with an error")
    page.get_by_label("Comment").fill("Not this winter without more beds.")
    page.get_by_role("button", name="Send response").click()
    expect(page.locator("#responses ~ .nhsuk-card").first).to_contain_text("Not this winter without more beds.")
    assert ExpectationResponse.objects.get().organisation == world["trust"]

    # On a phone: nothing is wider than the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/organisations/{world['trust'].ods_code}/asks/")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    assert_accessible(page, "asks page on a phone")
