"""Browser tests: Playwright drives the machine's Chromium (never a downloaded browser)."""

import functools
import json
import os
from pathlib import Path

import pytest

from tests.conftest import create_roles

# Playwright's sync API runs an event loop in the test thread; Django allows ORM calls there only with this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def roles(transactional_db):
    create_roles()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `apt-get install -y chromium` (scripts/test.sh does)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (its own cookies): call it once per person."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page, username, password=PASSWORD, next_path="/"):
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def follow_header_link(page, name):
    """Follows a link of the header's navigation, opening its "More" menu when the link has been moved there.

    The NHS.UK header moves the items that do not fit its width behind a "More" button, as a person would find.
    """
    # The header decides what fits once the page has loaded: look only then, or the link may move meanwhile.
    page.wait_for_load_state("load")
    header = page.locator("header")
    link = header.get_by_role("link", name=name, exact=True)
    if not link.first.is_visible():
        page.locator("#toggle-menu").click()
    link.first.click()


# axe's run, limited to the rules whose findings the assertion reads. Each rule of axe-core 4 declares its impact,
# and every finding of the rule is given that impact (axe's _finalizeRuleResult), so a rule declared "minor" or
# "moderate" can never make a serious or critical finding: those rules are not run. The others (axe's default
# set, whatever their tags) run as before. A rule that declares no impact runs.
# `preload: false`: axe otherwise reads every stylesheet of the page (and its media) before each run, about a
# third of a run's time, for the only two rules that use them: css-orientation-lock, tagged experimental and so
# outside axe's default set (its tagExclude), and no-autoplay-audio, "moderate" and so not run here. A rule run
# here that needs them (after an upgrade of axe-core) fails the run rather than being run without them.
AXE_RUN = """async () => {
  const cannotBeSerious = axe._audit.rules
    .filter((rule) => rule.impact === 'minor' || rule.impact === 'moderate')
    .map((rule) => rule.id);
  const rules = Object.fromEntries(cannotBeSerious.map((id) => [id, { enabled: false }]));
  const preloading = axe._audit.rules
    .filter((rule) => rule.preload && rule.enabled !== false && !cannotBeSerious.includes(rule.id))
    .filter((rule) => !rule.tags.some((tag) => axe._audit.tagExclude.includes(tag)))
    .map((rule) => rule.id);
  if (preloading.length) throw new Error(`axe's rules ${preloading} read the stylesheets: run them with preload`);
  return await axe.run(document, { resultTypes: ['violations'], rules, preload: false });
}"""


@functools.cache
def axe_source():
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `npm ci` (scripts/test.sh does).")
    return AXE.read_text() + "\n;undefined"


def with_axe(context):
    """Every document of the context gets axe-core as it starts, before the page's own scripts run: for a walk that
    checks every page it loads. axe (half a megabyte) is handed to Chromium once for the context instead of being
    sent to each page. Each document then evaluates it, checked or not, so the tests that check a few of the pages
    they load are given axe by `assert_accessible` instead.

    Given by the test tool (Playwright's init script), not added as a <script>: the portal's Content-Security-Policy
    rightly refuses an inline script without the page's nonce, and the pages are tested under that policy.
    """
    context.add_init_script(script=axe_source())
    return context


def assert_accessible(page, context=""):
    """axe-core, injected from its npm package, finds no serious or critical violation."""
    # The page as people see it: loaded, its header laid out (it moves what does not fit behind "More").
    page.wait_for_load_state("load")
    # A context made by `with_axe` gave axe to the page as it started; any other page is given it here, evaluated
    # by the test tool for the same reason. Once per document: a page checked again runs the axe it already has.
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(axe_source())
    result = page.evaluate(AXE_RUN)
    bad = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{context or page.url}: " + json.dumps(bad, indent=2)
