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


# The SQL of a record's page compiled once per process (nhs_joint/prefetch.py: get, cached_query, cached=True) ----


def compiled_models(client, url):
    """The page at ``url`` (drawn, 200) and the models whose queries were compiled while it was drawn."""
    from django.db.models.sql.compiler import SQLCompiler

    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    SQLCompiler.as_sql = counting
    try:
        response = client.get(url)
    finally:
        SQLCompiler.as_sql = as_sql
    assert response.status_code == 200, url
    return response, set(compiled)


def test_a_record_page_compiles_its_queries_once(client, programme, nhse):
    """The next programme's page compiles none of the queries of the record, its sections or its panels: only their
    values change (main's code compiled each of them on every page)."""
    from collaboration.models import Attachment, Comment
    from notifications.models import Watch
    from reports.models import SimilarRecord

    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    other = f.ProgrammeFactory(bodies=[nhse])
    f.WorkstreamFactory(programme=other, body=nhse, regions=[f.RegionFactory()])
    compiled_models(client, programme.get_absolute_url())
    response, compiled = compiled_models(client, other.get_absolute_url())
    page = {Programme, Comment, Attachment, Watch, SimilarRecord}
    page |= {
        lookup.queryset.model
        for lookup in registry.resource_for("programme").detail.queryset()._prefetch_related_lookups
        if hasattr(lookup, "queryset") and lookup.queryset is not None
    }
    assert compiled & page == set(), compiled & page
    assert other.title.encode() in response.content


def test_cached_sql_reads_what_django_reads(programme, nhse):
    """Read again with the SQL cached, for records with other numbers of rows (the keys are one array), an archived
    record (its page reads archived rows) and a workstream: the same records and caches as Django's own."""
    resource = registry.resource_for("programme")
    empty = f.ProgrammeFactory(bodies=[nhse])
    archived = f.ProgrammeFactory(bodies=[nhse])
    f.WorkstreamFactory(programme=archived, body=nhse, regions=[f.RegionFactory()])
    archived.archive()
    for record in (programme, empty, archived, programme):
        ours = resource.get_object(record.slug)
        with archive.including_archived():
            django = resource.detail.queryset().get(slug=record.slug)
        assert snapshot(ours) == snapshot(django)
    workstreams = registry.resource_for("workstream")
    for workstream in [*programme.workstreams.all(), *archived.workstreams.all()]:
        with archive.including_archived():
            django = workstreams.list.queryset().get(pk=workstream.pk)
        assert snapshot(workstreams.get_object(workstream.pk)) == snapshot(django)


def test_cached_sql_answers_a_missing_record_as_get_does(client, programme, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    client.get(programme.get_absolute_url())
    workstream = programme.workstreams.first()
    assert client.get(f"/workstreams/{workstream.pk}/").status_code == 200
    assert client.get("/programmes/no-such-programme/").status_code == 404
    assert client.get(f"/workstreams/{workstream.pk + 10_000}/").status_code == 404
    # A number no id column holds: no record (Django's get answers the same), not a database error.
    assert client.get("/workstreams/99999999999999999999/").status_code == 404


def test_a_committed_change_appears_at_once(client, programme, nhse):
    """Only SQL is cached, never rows: what a page shows is what the database holds when it is drawn."""
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client.force_login(staff)
    url = programme.get_absolute_url()
    assert b"Workstream 1" in client.get(url).content
    programme.workstreams.filter(title="Workstream 1").update(title="Renamed workstream")
    collaboration.post_comment(programme, staff, "A new comment")
    content = client.get(url).content
    assert b"Renamed workstream" in content and b"Workstream 1" not in content and b"A new comment" in content


def test_cached_query_reads_each_values_rows():
    """cached_query: one compiled query, each reading with its own values; a function made per call is read as it is."""
    from nhs_joint.prefetch import cached_query

    first, second = f.ProgrammeFactory(), f.ProgrammeFactory()
    record = Programme.objects.get(pk=first.pk)

    def made_here(pk):
        return Programme.objects.filter(pk=pk)

    found = prefetch_together(
        [record],
        [],
        also=[
            cached_query(by_pk, pk=first.pk),
            cached_query(by_pk, pk=second.pk),
            cached_query(made_here, pk=second.pk),
        ],
    )
    assert [[p.pk for p in records] for records in found] == [[first.pk], [second.pk], [second.pk]]


def by_pk(pk):
    return Programme.objects.filter(pk=pk)


def test_a_page_drawn_with_its_sql_cached_is_the_page_drawn_without(client, programme, nhse):
    """The same HTML, byte for byte (but the per-response nonce and CSRF token), with every panel holding
    something: the programme's page and a workstream's, each drawn with the SQL cached and then compiled as
    Django compiles it (bench/compare_pages.py compares a whole England-scale database's pages with main's)."""
    import dataclasses
    import re

    from notifications import services as notifications

    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client.force_login(staff)
    collaboration.post_comment(programme, staff, "A comment with <b>markup</b>")
    notifications.watch(staff, programme)
    workstream = programme.workstreams.order_by("pk").last()

    def html(url):
        content = client.get(url).content.decode()
        content = re.sub(r'nonce="[^"]+"', "nonce", content)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", content)

    pages = {}
    for name, url in (("programme", programme.get_absolute_url()), ("workstream", workstream.get_absolute_url())):
        resource = registry.resource_for(name)
        assert resource.detail.cache_sql
        cached = [html(url), html(url)]
        detail = resource.detail
        object.__setattr__(resource, "detail", dataclasses.replace(detail, cache_sql=False))
        try:
            pages[name] = html(url)
        finally:
            object.__setattr__(resource, "detail", detail)
        assert cached == [pages[name], pages[name]], name
        assert "Stop watching" in pages[name] or name == "workstream"
    assert "A comment with" in pages["programme"] and workstream.title in pages["workstream"]
