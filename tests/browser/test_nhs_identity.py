"""Sign-in through NHS identity (OpenID Connect), in Chromium, against a real provider run by the test.

The provider is the oidc-provider npm package (tests/oidc_provider.js), started with node on a free
port of 127.0.0.1 once for the module's tests and stopped after them. The browser may reach only this
machine: any other request is aborted, and the test fails if one was tried.
"""

import ipaddress
import json
import select
import socket
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts.models import User
from tests import factories as f
from tests.browser.conftest import assert_accessible

# The provider is a Node.js process started for the test.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tests" / "oidc_provider.js"
CLIENT_ID, CLIENT_SECRET = "joint-working-portal", "a-client-secret-for-the-tests-only"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def is_loopback(url):
    host = (urlsplit(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return not host  # data: and about: addresses name no host


@pytest.fixture(scope="module")
def identity_provider(live_server):
    """The provider, running for the module's tests (it keeps nothing a test reads): its address and discovery."""
    if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
        pytest.fail("oidc-provider is not installed: run `npm ci` (scripts/test.sh does).")
    callback = f"{live_server.url}/accounts/login/nhs-identity/callback/"
    # Started up to three times: in a full parallel run, the first provider of the run once printed its second
    # warning and then nothing for 120 s, while every later start took under a second. Each start is bounded
    # (100 lines or 30 seconds of silence); a start that hangs is stopped before the next is tried.
    tries = []
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            ["node", str(PROVIDER), str(port), CLIENT_ID, CLIENT_SECRET, callback],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        output = []
        for _ in range(100):
            ready, _, _ = select.select([process.stdout], [], [], 30)
            line = process.stdout.readline() if ready else ""
            output.append(line)
            if line.strip() == "ready" or not line:
                break
        if output and output[-1].strip() == "ready":
            break
        tries.append("".join(output))
        stop(process)
    else:
        pytest.fail("The identity provider did not start:\n" + "\n---\n".join(tries))
    try:
        issuer = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as response:
            discovery = json.load(response)
        assert all(is_loopback(value) for key, value in discovery.items() if key.endswith(("endpoint", "uri")))
        yield issuer, discovery
    finally:
        stop(process)


@pytest.fixture
def nhs_identity(identity_provider, settings):
    """The provider, running; the portal's settings pointed at it (the live server shares them)."""
    issuer, discovery = identity_provider
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "your NHS account"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = discovery["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = discovery["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = discovery["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = discovery["jwks_uri"]
    return issuer


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def sign_in_with_nhs_identity(new_page, nhs_identity):
    """A fresh browser that signs in with the provider as ``email``; it may reach this machine only."""
    elsewhere = []

    def only_this_machine(route):
        if is_loopback(route.request.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def sign_in(email):
        page = new_page()
        page.context.route("**/*", only_this_machine)
        page.goto("/accounts/login/")
        page.get_by_role("button", name="Sign in with your NHS account").click()
        page.wait_for_url(f"{nhs_identity}/**")
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
        return page

    yield sign_in
    assert not elsewhere, f"the browser tried to leave this machine: {elsewhere}"


@pytest.fixture
def jo(nhse, live_server):
    """An account an Administrator made: a role, a body, a region and no password."""
    region = f.RegionFactory(ods_code="Y61", name="East of England", short_name="East of England")
    user = f.UserFactory(
        username="jo.director",
        first_name="Jo",
        last_name="Director",
        email="Jo.Director@example.nhs.uk",
        role="Regional director",
        bodies=[nhse],
        region=region,
    )
    user.set_unusable_password()
    user.save()
    return user


def test_the_sign_in_page_offers_nhs_identity(new_page, nhs_identity):
    page = new_page()
    page.goto("/accounts/login/")
    assert page.get_by_role("button", name="Sign in with your NHS account").is_visible()
    assert page.get_by_label("Username").is_visible()  # portal passwords stay for break-glass accounts
    assert_accessible(page, "sign-in page with NHS identity")


def test_a_known_email_signs_in_to_the_account_with_its_role(sign_in_with_nhs_identity, jo):
    users = User.objects.count()
    page = sign_in_with_nhs_identity("jo.director@EXAMPLE.nhs.uk")  # matched whatever the case
    page.get_by_role("heading", name="East of England", level=1).wait_for()  # a Regional director's home: their region
    assert "Jo Director" in page.locator("header").inner_text()
    jo.refresh_from_db()
    assert jo.last_login is not None and jo.roles == {"Regional director"} and not jo.has_usable_password()
    assert User.objects.count() == users
    # With no portal password, the API token comes from "Your API tokens".
    page.goto("/accounts/tokens/")
    page.get_by_label("Device or program").fill("Jo's laptop")
    page.get_by_role("button", name="Get a new token").click()
    token = page.locator("#new-api-token").inner_text().strip()
    request = urllib.request.Request(
        f"{page.url.split('/accounts/')[0]}/api/v1/regions/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    # Signing in again, from another browser, finds the same account.
    again = sign_in_with_nhs_identity("Jo.Director@example.nhs.uk")
    again.get_by_role("heading", name="East of England", level=1).wait_for()


def test_an_unknown_email_is_told_to_ask_an_administrator_and_gets_no_account(sign_in_with_nhs_identity, jo):
    users = User.objects.count()
    page = sign_in_with_nhs_identity("someone.new@example.nhs.uk")
    page.wait_for_url("**/accounts/login/nhs-identity/refused/")
    assert page.get_by_role("heading", level=1).inner_text() == "You do not have an account yet"
    assert "Ask an Administrator" in page.inner_text("main")
    assert "someone.new@example.nhs.uk" in page.inner_text("main")
    assert_accessible(page, "unknown person")
    assert User.objects.count() == users
    page.goto("/programmes/")
    assert "/accounts/login/" in page.url


def test_a_deactivated_account_is_refused(sign_in_with_nhs_identity, jo):
    jo.is_active = False
    jo.save()
    page = sign_in_with_nhs_identity("jo.director@example.nhs.uk")
    page.wait_for_url("**/accounts/login/nhs-identity/refused/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account is deactivated"
    assert "reactivate" in page.inner_text("main")
    page.goto("/programmes/")
    assert "/accounts/login/" in page.url
