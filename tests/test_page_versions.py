"""A page is never stale: its version (nhs_joint/versions, nhs_joint/conditional.py) follows committed
changes in commit order, whatever wrote them, and covers every table the page reads."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from nhs_joint.registry import registry
from organisations.models import NationalBody
from regions.models import Region
from tests import factories as f
from tests.test_every_page_as_each_role import every_page
from tests.test_every_page_as_each_role import world as world  # a fixture

TABLE_READ = re.compile(r'\b(?:FROM|JOIN)\s+"([a-z0-9_]+)"', re.IGNORECASE)
# Who asks, not what the page shows of the data: the tag holds the person's session or token, roles, bodies
# and region (nhs_joint/conditional.py etag_for), and their sign-in records.
WHO_ASKS = frozenset(
    {
        "django_session",
        "accounts_user",
        "accounts_user_groups",
        "accounts_user_bodies",
        "auth_group",
        "accounts_apitoken",
        "axes_accessattempt",
    }
)


def tables_read(queries):
    """The tables the queries read, less the page's version query itself."""
    return {table for q in queries if "portal_data_version" not in q["sql"] for table in TABLE_READ.findall(q["sql"])}


def uncovered(client, url, user):
    """The tables a drawing of ``url`` reads that its version does not cover, or None when the page has no
    version (it is drawn every time)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code in (200, 400, 403), (url, response.status_code)
    covered = getattr(response, "version_tables", None)
    if covered is None or response.status_code == 403:
        return None
    for part in registry.page_versions:
        covered = covered | set(TABLE_READ.findall(part(user)[0]))
    return sorted(tables_read(ctx.captured_queries) - covered - WHO_ASKS)


@pytest.fixture
def everyone(world):
    """A person with every role and both bodies, of a region: every page answers them."""
    user = f.UserFactory(role=Role.STAFF, bodies=list(NationalBody.objects.all()))
    user.groups.add(*Group.objects.filter(name__in=[Role.REGIONAL_DIRECTOR, Role.ADMINISTRATOR]))
    user.region = Region.objects.active().order_by("ods_code").first()
    user.save()
    return user


def test_every_page_reads_only_tables_its_version_covers(client, everyone, draw_every_time):
    """Each registered page and API list, drawn as a person with every role: every table its drawing reads
    is one that its version covers, so a committed change to any of them gives it a new tag.

    Seen failing before the resources declared what else they read: a finding's page read the appointments,
    shares and bodies it names and its case; a person's page, the regions list and the regions API the
    appointments' shares; a local system's page the programmes and measures asked of it; and every page that
    names records by their content type read django_content_type. The test below shows it failing again."""
    client.force_login(everyone)
    urls = every_page() + [f"/api/v1/{route.prefix}/" for route in registry.api_routes]
    faults = {}
    versioned = 0
    for url in urls:
        if url == "/no-such-page/":
            continue
        missing = uncovered(client, url, everyone)
        if missing is None:
            continue
        versioned += 1
        if missing:
            faults[url] = missing
    assert versioned >= 40
    assert not faults, "\n".join(f"{url}: {tables}" for url, tables in faults.items())


def test_a_page_reading_a_table_its_version_lacks_is_named(client, everyone, draw_every_time, monkeypatch):
    """The check above fails when a page reads a table outside its version: a person's page without the
    appointments' shares among what it declares it reads."""
    person = registry.resource_named("person")
    client.force_login(everyone)
    url = person.detail_url(person.queryset().filter(appointments__shares__isnull=False).first().pk)
    assert uncovered(client, url, everyone) == []
    monkeypatch.setattr(person, "reads", ())
    assert uncovered(client, url, everyone) == ["appointments_appointmentshare"]
