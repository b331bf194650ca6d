"""What every API request does before its view reads anything, and no more than it needs: its address resolved by its
first segment (nhs_joint/resolvers.py: the same view, arguments, name and namespaces as Django's own resolver finds,
trying only the patterns that segment can match), its media type negotiated as DRF negotiates it, and no throttle of
writes made for a read."""

import re

import pytest
from django.urls import Resolver404, URLResolver, get_resolver

from nhs_joint.resolvers import FirstSegmentResolver


def api_resolvers():
    """The router's resolver of /api/v1/ and Django's plain resolver of the same patterns."""
    (api,) = [p for p in get_resolver().url_patterns if str(p.pattern) == "api/"]
    (keyed,) = [p for p in api.url_patterns if isinstance(p, FirstSegmentResolver)]
    plain = URLResolver(keyed.pattern, keyed.urlconf_name, app_name=keyed.app_name, namespace=keyed.namespace)
    return keyed, plain


def an_address(regex):
    """An address each of the router's patterns matches: a record's key, a format suffix."""
    address = regex.lstrip("^").replace("\\Z", "").rstrip("$")
    address = re.sub(r"\(\?P<format>\\?\.?\[a-z0-9\]\+/\?\)", ".json", address)
    address = re.sub(r"\(\?P<format>[^)]*\)", "json", address)
    address = re.sub(r"\(\?P<\w+>\[0-9\][^)]*\)", "12", address)
    address = re.sub(r"\(\?P<\w+>[^)]*\)", "key1", address)
    return address.replace("/?", "/").replace("\\.", ".").replace("\\-", "-")


def found(resolver, path):
    try:
        match = resolver.resolve(path)
    except Resolver404:
        return "not found"
    return (match.func, match.args, match.kwargs, match.url_name, match.app_names, match.namespaces, match.route)


def test_every_api_address_resolves_as_djangos_resolver_resolves_it():
    keyed, plain = api_resolvers()
    patterns = keyed.url_patterns
    assert len(patterns) > 100  # every kind of record's list, record and actions, each with a format suffix
    paths = ["v1/" + an_address(p.pattern.regex.pattern) for p in patterns]
    paths += ["v1/", "v1/.json", "v1/programmes", "v1/programmes.json", "v1/nothing/", "v1/x/programmes/", "v1/p.q/"]
    assert any(found(keyed, path) != "not found" for path in paths)  # addresses that resolve, not only 404s
    for path in paths:
        assert found(keyed, path) == found(plain, path), path
    views = {found(keyed, "v1/" + an_address(p.pattern.regex.pattern))[3] for p in patterns}
    assert views == {p.name for p in patterns}  # each pattern's own address reaches it


@pytest.mark.django_db
def test_an_api_list_address_tries_only_its_own_patterns(monkeypatch):
    keyed, _plain = api_resolvers()
    tried = []
    for pattern in keyed.url_patterns:
        original = pattern.resolve
        monkeypatch.setattr(pattern, "resolve", lambda path, o=original, p=pattern: tried.append(p) or o(path))
    keyed.__dict__.pop("_by_segment", None)  # its groups made again of the patterns watched here
    assert found(keyed, "v1/workstreams/")[3] == "workstream-list"
    assert 0 < len(tried) <= 3, [p.pattern for p in tried]
    keyed.__dict__.pop("_by_segment", None)


ACCEPTS = [None, "*/*", "", "application/json", "text/html", "application/json; indent=4", "*/*;q=0.8", "text/*"]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=xml"])
def test_a_requests_media_type_is_the_one_drf_chooses(accept, query):
    from django.http import Http404
    from rest_framework.exceptions import NotAcceptable
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from nhs_joint.api import PortalContentNegotiation

    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/v1/programmes/{query}", **headers))

    def chosen(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, [JSONRenderer()])
        except NotAcceptable:
            return "not acceptable"
        except Http404:  # a format no renderer gives
            return "not found"
        return type(renderer), media_type

    assert chosen(PortalContentNegotiation()) == chosen(DefaultContentNegotiation())


@pytest.mark.django_db
def test_a_read_makes_no_throttle_of_writes_and_a_write_does(nhse, monkeypatch):
    from rest_framework.test import APIClient

    from accounts.throttling import WriteRateThrottle
    from tests import factories as f

    made = []
    original = WriteRateThrottle.__init__
    monkeypatch.setattr(WriteRateThrottle, "__init__", lambda self: made.append(1) or original(self))
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    assert client.get("/api/v1/measures/").status_code == 200
    assert made == []
    new = {"code": "m-1", "name": "M 1", "unit": "percent", "direction": "higher", "comparator": ">="}
    assert client.post("/api/v1/measures/", new, format="json").status_code == 201
    assert made == [1]
