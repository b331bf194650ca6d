"""The cache of NHS.UK component HTML: the same parameters give the same HTML, different ones never share it."""

import pytest
from django.template import engines

from tests import factories as f


@pytest.fixture
def env():
    return engines["jinja2"].env


def test_a_component_is_rendered_once_per_distinct_parameters(env, monkeypatch):
    component = env.globals["component"]
    cache = component.__self__
    calls = []
    real = cache._store

    def counting(key, render):
        return real(key, lambda: calls.append(key) or render())

    monkeypatch.setattr(cache, "_store", counting)
    first = component("nhsuk/components/button/macro.jinja", "button", {"text": "Apply filters"})
    again = component("nhsuk/components/button/macro.jinja", "button", {"text": "Apply filters"})
    other = component("nhsuk/components/button/macro.jinja", "button", {"text": "Save"})
    assert first == again and "Apply filters" in first
    assert "Save" in other and "Apply filters" not in other
    assert len(calls) == 2


@pytest.mark.django_db
def test_one_users_header_never_appears_on_anothers_page(client, nhse):
    alice = f.UserFactory(role="Staff", bodies=[nhse], first_name="Alice", last_name="Ashworth")
    bob = f.UserFactory(role="Staff", bodies=[nhse], first_name="Bob", last_name="Brennan")
    client.force_login(alice)
    assert "Alice Ashworth" in client.get("/programmes/").content.decode()
    client.force_login(bob)
    html = client.get("/programmes/").content.decode()
    assert "Bob Brennan" in html and "Alice Ashworth" not in html


@pytest.mark.django_db
def test_a_filter_keeps_each_requests_own_choices(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    ticked = client.get("/programmes/?status=active").content.decode()
    plain = client.get("/programmes/").content.decode()
    assert 'value="active" checked' in ticked
    assert 'value="active" checked' not in plain
