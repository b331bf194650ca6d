"""The consultation loop in the browser, with axe on each page: a member of staff opens the consultation with the
NHS.UK date input, the partner of a trust it applies to finds the call to action and answers with concerns,
and the expectation's author finds the response on My work and in their notifications."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from asks.models import Expectation, ExpectationResponse
from notifications.models import Notification
from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONCERN = "Not this winter without the beds we were promised."


@pytest.fixture
def world(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    trust = f.OrganisationFactory(region=london, name="Riverside NHS Trust")
    programme = f.ProgrammeFactory(title="Urgent and emergency care", bodies=[nhse], accountable_body=nhse)
    measure = f.MeasureFactory(code="ae-4hr", name="A&E: seen within four hours", unit="percent")
    author = f.UserFactory(username="sam.author", role="Staff", bodies=[nhse], first_name="Sam", last_name="Author")
    draft = f.ExpectationFactory.build(
        programme=programme, issued_by=nhse, measure=measure, region=london, target=92, due_date=dt.date(2100, 3, 31)
    )
    draft._history_user = author  # who wrote it
    draft.save()
    f.UserFactory(role="Partner", username="pat.partner", organisation=trust)
    return {"draft": draft, "trust": trust}


def test_staff_open_a_consultation_the_partner_answers_and_the_author_sees_it(new_page, world):
    draft = world["draft"]
    closes = dt.date.today() + dt.timedelta(days=21)

    staff = new_page()
    sign_in(staff, "sam.author", next_path=f"/consultations/{draft.pk}/")
    expect(staff.get_by_role("heading", level=1)).to_contain_text("A&E: seen within four hours")
    # Without a date it is refused, the field named, and the form is still there.
    staff.get_by_role("button", name="Open the consultation").click()
    expect(staff.locator(".nhsuk-error-summary")).to_contain_text("Enter the date the consultation closes.")
    assert_accessible(staff, "opening a consultation without a date")
    staff.locator(".nhsuk-error-summary a").first.click()
    expect(staff.locator("#closes-day")).to_be_focused()
    staff.locator("#closes-day").fill(str(closes.day))
    staff.locator("#closes-month").fill(str(closes.month))
    staff.locator("#closes-year").fill(str(closes.year))
    staff.get_by_role("button", name="Open the consultation").click()
    expect(staff.locator("#stage")).to_contain_text(f"consultation closes {closes.day} {closes:%B %Y}")
    assert_accessible(staff, "the consultation, open")
    assert Expectation.objects.get(pk=draft.pk).stage == "consultation"

    # The partner lands on their home, where the call to action says how long is left, and answers; their asks
    # page lists it too.
    partner = new_page()
    sign_in(partner, "pat.partner")
    call = partner.locator(f"#consultation-{draft.pk}")
    expect(call).to_contain_text("21 days left")
    assert_accessible(partner, "the partner's home with the call to action")
    partner.goto(f"/organisations/{world['trust'].ods_code}/asks/")
    expect(partner.locator("#open-consultations")).to_contain_text("21 days left")
    assert_accessible(partner, "the partner's asks with the open consultation")
    partner.locator("#open-consultations").get_by_role("link", name="Respond to the consultation").click()
    partner.get_by_label("We have concerns").check()
    partner.get_by_label("Comment").fill(CONCERN)
    partner.get_by_role("button", name="Send response").click()
    expect(partner.locator("#responses ~ .nhsuk-card").first).to_contain_text(CONCERN)
    assert_accessible(partner, "the consultation, answered")
    partner.goto("/notifications/")
    expect(partner.locator("main")).to_contain_text("A&E: seen within four hours")
    assert_accessible(partner, "the partner's notifications")
    assert ExpectationResponse.objects.get().organisation == world["trust"]

    # The author finds the response on My work, quoted, and in their notifications.
    staff.goto("/my-work/")
    section = staff.locator("#my-consultations + ul")
    expect(section).to_contain_text("Riverside NHS Trust")
    expect(section).to_contain_text(CONCERN)
    assert_accessible(staff, "My work with the response")
    staff.goto("/notifications/")
    expect(staff.locator("main")).to_contain_text("Riverside NHS Trust has concerns about A&E: seen within four hours")
    assert_accessible(staff, "the author's notifications")
    assert Notification.objects.filter(kind="response").count() == 1
