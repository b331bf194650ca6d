"""A bounded abuse run against a live portal (loopback only, well under a minute).

While oversized, deeply nested and 100,000-key bodies are sent from several
threads at once, each is answered promptly with a 400 or 413 and the portal
keeps answering /healthz.
"""

import json
import threading
import urllib.error
import urllib.request

import pytest

from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
TIMEOUT = 20  # seconds: a guard against a request that hangs, not a measurement


def send(url, body=None, token=None, content_type="application/json"):
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_abusive_bodies_are_answered_promptly_while_the_portal_keeps_answering(live_server, nhse, settings):
    from tests.conftest import create_roles

    create_roles()
    token = f.token_for(f.UserFactory(role="Staff", bodies=[nhse]))
    programmes = f"{live_server.url}/api/v1/programmes/"
    abuse = {
        "100,000 keys": json.dumps(
            {
                "title": "x",
                "bodies": ["NHSE"] * 100_000,
                "integration_stage": "aligned",
                "status": "proposed",
                "start_date": "2019-04-01",
            }
        ).encode(),
        "deep nesting": b"[" * 50_000 + b"]" * 50_000,
        "deep object": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        "too large": b'{"title": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}',
    }
    responses = {}
    threads = [
        threading.Thread(target=lambda name=name, body=body: responses.__setitem__(name, send(programmes, body, token)))
        for name, body in abuse.items()
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    health = []
    while any(thread.is_alive() for thread in threads) and len(health) < 200:
        health.append(send(f"{live_server.url}/healthz")[0])
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "an abusive request was not answered in time"

    assert {name: status for name, (status, _) in responses.items()} == {
        "100,000 keys": 400,
        "deep nesting": 400,
        "deep object": 400,
        "too large": 413,
    }
    for _status, body in responses.values():
        assert "detail" in json.loads(body) or json.loads(body)  # every API error is JSON
    assert health and set(health) == {200}
    assert send(f"{live_server.url}/healthz")[0] == 200
