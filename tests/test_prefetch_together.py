"""A record's sections read level by level, each level in one query (nhs_joint/prefetch.py): the records and
caches are those Django's own prefetch_related_objects makes, and a programme's page reads its sections and
panels in two queries after the programme's own, however many rows they hold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from collaboration import services as collaboration
from measures.models import Measurement
from nhs_joint import archive
from nhs_joint.prefetch import prefetch_together
from nhs_joint.registry import registry
from programmes.models import Programme
from reports.models import ReportRun
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_every_time")]


def snapshot(record, path=()):
    """Everything a record holds: its fields' values and types, the records joined to it and its prefetched
    lists, each in the same way (a record already on the path named by its key only)."""
    key = (type(record).__name__, record.pk)
    if key in path:
        return key
    path = (*path, key)
    values = {
        name: (value, type(value), getattr(value, "tzinfo", None))
        for name, value in vars(record).items()
        if not name.startswith("_")
    }
    joined = {
        name: snapshot(other, path) if other is not None else None for name, other in record._state.fields_cache.items()
    }
    lists = {
        name: [snapshot(other, path) for other in queryset]
        for name, queryset in getattr(record, "_prefetched_objects_cache", {}).items()
    }
    return {"key": key, "values": values, "joined": joined, "lists": lists}


@pytest.fixture
def programme(nhse, nhsi):
    regions = [f.RegionFactory(), f.RegionFactory(short_name="")]
    p = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse)
    for n in range(3):
        f.WorkstreamFactory(programme=p, body=nhse, regions=regions[: n % 3], title=f"Workstream {n}")
        f.ExpectationFactory(programme=p, issued_by=nhse, region=regions[0] if n else None, target=Decimal("92.5"))
        f.BoardApprovalFactory(programme=p, body=nhsi if n else nhse, date=dt.date(2020, 1, n + 1))
        pm = f.ProgrammeMeasureFactory(programme=p, target=Decimal("95.25"))
        pm.agreed_by.set([nhse, nhsi][:n])
        f.RegionalDeliveryFactory(programme=p)
    return p


def test_sections_read_as_django_reads_them(programme):
    resource = registry.resource_for("programme")
    ours = resource.get_object(programme.slug)
    with archive.including_archived():
        django = resource.detail.queryset().get(slug=programme.slug)
    assert snapshot(ours) == snapshot(django)
    assert len(snapshot(ours)["lists"]) == 6  # bodies, approvals, workstreams, delivery, expectations, measures
    assert [len(w.regions.all()) for w in ours.workstreams.all()] == [0, 1, 2]


def test_lookups_through_two_relations_left_to_django(programme):
    ours = Programme.objects.get(pk=programme.pk)
    django = Programme.objects.get(pk=programme.pk)
    prefetch_together([ours], ["workstreams__regions", "bodies"])
    prefetch_related_objects([django], "workstreams__regions", "bodies")
    assert snapshot(ours) == snapshot(django)


def test_other_querysets_read_with_the_first_level(programme, nhse):
    """Any queryset's records, read in the same query: JSON, decimals, dates and times as Django reads them."""
    f.ReportRunFactory(
        counts={"findings": 3, "rules": {"R1": [1, 2]}},
        finished=dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
    )
    f.MeasurementFactory(value=Decimal("91.125"))
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    comment = collaboration.post_comment(programme, staff, "Hello")
    collaboration.hide_comment(comment, f.UserFactory(role="Administrator"), "Unkind")
    querysets = [
        ReportRun.objects.order_by("pk"),
        Measurement.objects.select_related("region", "measure").order_by("pk"),
        collaboration.comments_on(programme),
        Programme.objects.filter(pk=-1),
    ]
    record = Programme.objects.get(pk=programme.pk)
    with CaptureQueriesContext(connection) as queries:
        found = prefetch_together([record], ["bodies"], also=querysets)
    assert len(queries) == 1
    assert [[snapshot(r) for r in records] for records in found] == [
        [snapshot(r) for r in queryset.all()] for queryset in querysets
    ]
    assert found[0][0].counts == {"findings": 3, "rules": {"R1": [1, 2]}}
    assert found[1][0].value == Decimal("91.125") and found[2][0].hidden_by is not None and found[3] == []


@pytest.mark.parametrize("rows", [1, 6])
def test_programme_page_reads_sections_and_panels_in_two_queries(client, programme, nhse, rows):
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client.force_login(staff)
    for n in range(rows):
        collaboration.post_comment(programme, staff, f"Comment {n}")
        f.WorkstreamFactory(programme=programme, body=nhse)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(programme.get_absolute_url())
    assert response.status_code == 200 and b"Comment 0" in response.content
    queries = [q["sql"] for q in captured]
    first = next(i for i, sql in enumerate(queries) if sql.startswith('SELECT "programmes_programme"."id"'))
    assert len(queries[first + 1 :]) == 2, queries[first + 1 :]
