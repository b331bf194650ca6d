"""The pages of issue #14 in Chromium: "Your API tokens" from the account menu, and the lockout page."""

import re

import pytest

from accounts.models import ApiToken
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_your_api_tokens_are_listed_and_revoked_by_keyboard(new_page, live_server):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    staff = f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse])
    ApiToken.issue(staff, "Laptop")
    ApiToken.issue(staff, "Reporting script")
    page = new_page()
    sign_in(page, "sam.staff")
    page.get_by_role("link", name="Your API tokens").first.click()
    page.wait_for_url("**/accounts/tokens/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your API tokens"
    assert_accessible(page, "Your API tokens")
    revoke = page.get_by_role("button", name="Revoke the token Laptop")
    revoke.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "“Laptop” is revoked" in page.locator(".portal-message").inner_text()
    assert "Laptop" not in page.locator("#api-tokens").inner_text()
    assert "Reporting script" in page.locator("#api-tokens").inner_text()
    assert list(ApiToken.objects.filter(user=staff).values_list("name", flat=True)) == ["Reporting script"]


def test_the_lockout_page_says_when_to_try_again(new_page, live_server, settings):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse])
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 800})  # a phone
    for _ in range(settings.SIGN_IN_FAILURE_LIMIT):  # bounded
        sign_in(page, "sam.staff", password="not the password")
    assert re.fullmatch(
        r"Too many failed sign-ins\. Try again after \d{1,2}:\d\d[ap]m( on \d{1,2} [A-Z][a-z]+)?\.",
        page.locator("#locked-out").inner_text(),
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Too many failed sign-ins"
    assert_accessible(page, "lockout page")
