"""Every API operation and every page, found rather than listed, for the tests that walk them all.

The API's operations come from its OpenAPI schema (/api/schema/), so a resource or action added later is
walked without anyone adding it to a test; the pages come from the URL patterns of the page resources
declared in the registry. The API's resources are read from the registry too (``api_resources``, ``writable``
and the rest): tests/test_api.py and tests/test_api_query_counts.py walk every one, with no list kept by hand.
"""

import re

from django.urls import resolve

from nhs_joint import permissions
from nhs_joint.registry import registry

WRITE_METHODS = ("post", "put", "patch", "delete")
METHODS = ("get", *WRITE_METHODS)


def schema_operations(client):
    """[(method, path template)] of every operation the schema documents, for a client that may read it."""
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:300]
    operations = []
    for path, item in response.json()["paths"].items():
        operations += [(method, path) for method in METHODS if method in item]
    assert len(operations) > 100, len(operations)  # every resource's list, record, history and actions
    return operations


def fill(template, values):
    """The path with its parameters ({id}, {slug}, {code}…) given values; an unknown one is 1."""
    return re.sub(r"\{(\w+)\}", lambda match: str(values.get(match.group(1), 1)), template)


def url_name(path):
    """The URL name a path reaches, with its namespace ("api:programme-list")."""
    return resolve(path).view_name


# A person's own work on records (tests/notifications, tests/test_collaboration): not records of the portal's
# data, so not walked by the generic list and write tests of tests/test_api.py; the schema must still document
# their errors.
PERSONAL = ["watches", "notifications", "notification-preference", "comments", "attachments", "saved-views"]


def api_resources():
    """The page resources served by the API too (``Resource(api=Api(...))``), as declared."""
    return [resource for resource in registry.declared_resources() if resource.api is not None]


def writable():
    """Resources that Staff and Regional directors create and change (their create_permission is the portal's
    rule for records): every rule of the API is tried on them."""
    return [r.prefix for r in api_resources() if r.permissions.create is permissions.can_edit_records]


def archived_on_delete():
    """Resources whose records a DELETE archives (their models are Archivable)."""
    return {r.prefix for r in api_resources() if r.archivable}


def never_deleted():
    """Never deleted, on the pages or here (their resources' deletable=False): DELETE is 405 with the reason."""
    return {r.prefix for r in api_resources() if not r.permissions.deletable}


def read_only():
    """The API's routes that take no writes (hand-written viewsets of reference data and findings)."""
    registry.declared_resources()
    return [
        route.prefix
        for route in registry.api_routes
        if not hasattr(route.viewset, "create") and route.prefix not in PERSONAL
    ]


def every_route():
    """Every resource of the API but a person's own work: read by every role, refused to anyone signed out."""
    registry.declared_resources()
    return [route.prefix for route in registry.api_routes if route.prefix not in PERSONAL]
