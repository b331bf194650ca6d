"""Under the portal's Content-Security-Policy, in a real Chromium: the pages' own scripts run, nothing is refused,
and the API documentation still works."""

import pytest

from tests import factories as f

from .conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_pages_and_the_api_docs_run_their_scripts_with_nothing_refused(new_page):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    f.UserFactory(username="csp.staff", role="Staff", bodies=[nhse], password=PASSWORD)
    page = new_page()
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    sign_in(page, "csp.staff")
    for path in ("/", "/programmes/", "/reports/", "/measurements/import/"):
        page.goto(path)
        # The NHS.UK template's inline script (with the page's nonce) marks the page as able to run the frontend.
        assert "nhsuk-frontend-supported" in page.evaluate("document.body.className"), path
    page.goto("/api/docs/")
    page.wait_for_selector("#swagger-ui .information-container", timeout=15_000)
    assert page.locator("#swagger-ui").get_by_text("NHS Joint Working Portal API").first.is_visible()
    assert refused == []
