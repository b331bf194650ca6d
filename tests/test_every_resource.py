"""Every kind of record the portal declares is complete: a factory, an API resource, and pages that answer.

A new ``Resource`` is walked here just by being registered with its app's URLs (nhs_joint.generic.register):
forgetting its factory, its API route or a working page fails a test, instead of failing nothing.
"""

import dataclasses
import html

import pytest
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from accounts.models import Role
from nhs_joint.api import Api
from nhs_joint.generic import Resource, register
from nhs_joint.registry import registry
from tests import factories

pytestmark = pytest.mark.django_db

RESOURCES = sorted(registry.declared_resources(), key=lambda resource: resource.name)
# Kinds of record with pages but, on purpose, no API resource.
PAGES_ONLY = {"user": "user management is for Administrators in the portal, never through the API"}


def test_every_record_with_pages_finds_its_address_through_its_resource():
    for resource in RESOURCES:
        record = getattr(factories, f"{resource.model.__name__}Factory").build()
        if getattr(record, resource.lookup, None) in (None, ""):
            record.pk = 1
        assert record.get_absolute_url() == reverse(f"{resource.name}-detail", args=[getattr(record, resource.lookup)])


def test_every_resource_is_declared_once():
    names = [resource.name for resource in RESOURCES]
    assert len(names) == len(set(names)) and len(names) >= 15


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_a_resource_is_complete_as_declared_and_never_changed_after(resource):
    """What the URLs, the API and the registry were made from is the declaration: it cannot be changed later."""
    for declared, name, value in [
        (resource, "extra_urls", lambda resource: []),
        (resource, "form", None),
        (resource.list, "forms", None),
        (resource.detail, "summary", None),
        (resource.permissions, "change", None),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(declared, name, value)
    if resource.form is not None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            resource.form.form_class = None


def test_declaring_a_resource_registers_nothing_and_registering_a_name_twice_is_refused(monkeypatch):
    """Only ``register`` (an app's urls.py) adds a kind of record to the portal; the same name twice is an error,
    not a second set of pages silently shadowing the first."""
    monkeypatch.setattr(registry, "resources", list(RESOURCES))
    monkeypatch.setattr(registry, "api_routes", list(registry.api_routes))
    risks = registry.resource_named("programme-risk")
    before = (list(registry.resources), list(registry.api_routes))
    again = Resource(model=risks.model, name=risks.name, prefix="risks-again", list=risks.list, api=Api())
    assert (registry.resources, registry.api_routes) == before
    with pytest.raises(ValueError, match="'programme-risk' is registered twice"):
        register(again)
    assert (registry.resources, registry.api_routes) == before
    register(dataclasses.replace(again, name="risk-again"))
    assert registry.resource_named("risk-again").prefix == "risks-again"
    assert registry.api_routes[-1].prefix == "risks-again"


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_every_resource_has_a_factory_and_an_api_route(resource):
    assert hasattr(factories, f"{resource.model.__name__}Factory"), (
        f"tests/factories.py has no {resource.model.__name__}Factory"
    )
    api_models = {route.viewset.queryset.model for route in registry.api_routes}
    if resource.name in PAGES_ONLY:
        assert resource.model not in api_models
    else:
        assert resource.model in api_models, f"no API resource serves {resource.verbose_name_plural}"


@pytest.fixture
def everyone(nhse, nhsi):
    """A person with every role and both bodies: each page should answer them."""
    user = factories.UserFactory(role=Role.STAFF, bodies=[nhse, nhsi])
    user.groups.add(*Group.objects.filter(name__in=[Role.REGIONAL_DIRECTOR, Role.ADMINISTRATOR]))
    return user


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.name)
def test_every_page_of_every_resource_answers(client, everyone, resource):
    record = getattr(factories, f"{resource.model.__name__}Factory")()
    if getattr(record, "region_id", None):
        everyone.region_id = record.region_id  # the regional director of the record's region
        everyone.save()
    client.force_login(everyone)
    key = getattr(record, resource.lookup)
    pages = [resource.list_url(), reverse(f"{resource.name}-detail", args=[key])]
    for suffix in ("history", "edit"):
        try:
            pages.append(reverse(f"{resource.name}-{suffix}", args=[key]))
        except NoReverseMatch:
            pass
    # Each page is about this record: the list links to its page, and its own pages name it (read as the browser
    # shows it: Jinja writes an apostrophe as &#39;, Django's escape as &#x27;).
    shown = {url: str(record) for url in pages[1:]}
    shown[pages[0]] = f'href="{pages[1]}"'
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert b"<title>" in response.content
        policy = response.get("Content-Security-Policy", "")
        assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy, url
        assert shown[url] in html.unescape(response.content.decode()), (url, shown[url])
    exported = client.get(resource.list_url() + "?export=csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
