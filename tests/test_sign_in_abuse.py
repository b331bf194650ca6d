"""A bounded guessing attack on the running portal, over loopback HTTP: 50 wrong passwords, 4 at a time.

The account is locked well before the 50th; later tries, the right password included, are refused
without a password being checked; and the portal answers its health check all the while. Every loop
is bounded in count; nothing here measures time.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.models import User
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "correct horse battery staple"
GUESSES = 50


@pytest.fixture
def checks(monkeypatch):
    """How many times a password is checked (the costly part of a sign-in that a lockout spares)."""
    counted = {"n": 0}
    lock = threading.Lock()
    original = User.check_password

    def check_password(self, raw_password):
        with lock:
            counted["n"] += 1
        return original(self, raw_password)

    monkeypatch.setattr(User, "check_password", check_password)
    return counted


def sign_in(base, username, password):
    with requests.Session() as session:
        page = session.get(f"{base}/accounts/login/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return session.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )


def test_fifty_wrong_passwords_lock_the_account_and_the_portal_keeps_answering(live_server, checks, settings):
    from tests.conftest import create_roles

    create_roles()
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse])
    base = live_server.url
    health = []
    stop = threading.Event()

    def watch_health():
        for _ in range(200):  # bounded
            if stop.is_set():
                return
            health.append(requests.get(f"{base}/healthz", timeout=30))

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            responses = list(pool.map(lambda n: sign_in(base, "sam.staff", f"guess number {n}"), range(GUESSES)))
    finally:
        stop.set()
        watcher.join(timeout=120)

    codes = [response.status_code for response in responses]
    assert set(codes) <= {200, 429}, codes  # a wrong password: the form again, or the lockout
    assert codes.count(429) >= GUESSES - settings.SIGN_IN_FAILURE_LIMIT - 4, codes
    checked_during_attack = checks["n"]
    assert checked_during_attack <= settings.SIGN_IN_FAILURE_LIMIT + 4, checked_during_attack

    # Locked: the right password is refused, on the page and for a token, and no password is checked.
    right = sign_in(base, "sam.staff", PASSWORD)
    assert right.status_code == 429 and "Too many failed sign-ins. Try again after" in right.text
    assert int(right.headers["Retry-After"]) > 0
    token = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": "sam.staff", "password": PASSWORD}, timeout=30
    )
    assert token.status_code == 429 and token.json()["detail"].startswith("Too many failed sign-ins")
    assert checks["n"] == checked_during_attack

    # The portal answered its health check throughout.
    assert health and all(response.status_code == 200 and response.json()["database"] == "ok" for response in health)
