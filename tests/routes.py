"""Every API operation and every page, found rather than listed, for the tests that walk them all.

The API's operations come from its OpenAPI schema (/api/schema/), so a resource or action added later is
walked without anyone adding it to a test; the pages come from the URL patterns of the page resources
declared in the registry.
"""

import re

from django.urls import resolve

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
