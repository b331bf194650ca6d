"""What makes a first drawing cheap, and never stale: list rows written out in Python, record addresses
without reversing each, deep pages read by an order kept per data version (nhs_joint/page_ids.py), and the
dashboards' content drawn once for everyone per data version (nhs_joint/parts.py)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment
from nhs_joint import page_ids
from nhs_joint.registry import registry
from programmes.models import Programme, RegionalDelivery, Workstream
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_every_time")]


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


def get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries]


def reads(queries, table):
    """Whether any of ``queries`` reads ``table`` (the version's query names it without reading it)."""
    return any(re.search(rf'\b(FROM|JOIN) "?{table}"?[\s)]', sql) for sql in queries)


def rows_of(html):
    """The list's rows: each row's cells' text, links and labels as drawn."""
    body = html.split('<tbody class="nhsuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr class="nhsuk-table__row" role="row">(.*?)</tr>', body, re.S)


def test_list_rows_are_escaped_labelled_and_linked(client, staff, nhse):
    programme = f.ProgrammeFactory(title="Urgent <care> & more", bodies=[nhse])
    workstream = f.WorkstreamFactory(programme=programme, title="<script>alert(1)</script>", body=nhse)
    client.force_login(staff)
    html, _ = get(client, "/workstreams/")
    (row,) = rows_of(html)
    assert "<script>alert(1)" not in html
    assert (
        f'<a class="nhsuk-link" href="/workstreams/{workstream.pk}/">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in row
    )
    assert f'href="{programme.get_absolute_url()}">Urgent &lt;care&gt; &amp; more</a>' in row
    # Each cell is labelled with its column for the responsive table (a card per row on a phone).
    labels = re.findall(r'<span class="nhsuk-table-responsive__heading" aria-hidden="true">([^<]*) </span>', row)
    assert labels[:3] == ["Title", "Programme", "Owning body"]
    assert '<td role="cell" class="nhsuk-table__cell portal-nowrap">' in row  # the start date, on one line


@pytest.mark.parametrize("key", [1, 42, 917364285, "programme-1", "a_b-c", "Y56"])
def test_a_records_address_is_the_one_django_reverses(key):
    checked = 0
    for resource in registry.declared_resources():  # the URLs loaded first, where no test has yet
        if resource.lookup_converter == "int" and not isinstance(key, int):
            continue
        try:
            expected = reverse(f"{resource.name}-detail", args=[key])
        except Exception:
            continue
        assert resource.detail_url(key) == expected, resource.name
        checked += 1
    assert checked


@pytest.fixture
def deep_from_page_2(monkeypatch):
    """Pages from the second on are deep (page_ids.DEEP_OFFSET is 1,000 rows: page 21)."""
    monkeypatch.setattr(page_ids, "DEEP_OFFSET", 50)


def titles(html):
    return [re.search(r'href="/programmes/[^/]+/">([^<]*)</a>', row).group(1) for row in rows_of(html)]


@pytest.mark.usefixtures("deep_from_page_2")
def test_a_deep_page_shows_the_records_offset_would_and_follows_a_change(client, staff, nhse):
    Programme.objects.bulk_create(
        [
            Programme(
                title=f"Programme {n:03d}",
                slug=f"programme-{n:03d}",
                summary="A programme.",
                theme="quality",
                integration_stage="aligned",
                accountable_body=nhse,
                status="active",
                start_date=dt.date(2019, 4, 1),
            )
            for n in range(130)
        ]
    )
    client.force_login(staff)
    page2, queries = get(client, "/programmes/?page=2")
    assert titles(page2) == [f"Programme {n:03d}" for n in range(50, 100)]
    again, cached_queries = get(client, "/programmes/?page=3")
    assert titles(again) == [f"Programme {n:03d}" for n in range(100, 130)]

    # The first deep page read the list's order once, which also gave the count; page 3 read neither.
    def order_read(sql):
        return sql.startswith('SELECT "programmes_programme"."id" AS "pk" FROM') and "LIMIT 50001" in sql

    assert sum(map(order_read, queries)) == 1 and not any("COUNT(*)" in q for q in queries)
    assert not any(map(order_read, cached_queries)) and not any("COUNT(*)" in q for q in cached_queries)
    assert "Showing 101 to 130 of 130 programmes" in again
    # A programme renamed to come first moves every later one a place: no page shows the kept order.
    moved = Programme.objects.get(title="Programme 120")
    moved.title = "A programme renamed"
    moved.save()
    assert titles(get(client, "/programmes/?page=2")[0]) == [f"Programme {n:03d}" for n in range(49, 99)]
    third = titles(get(client, "/programmes/?page=3")[0])
    assert "Programme 120" not in third and third[0] == "Programme 099" and len(third) == 30
    # The API's pages too.
    api = Client(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    slugs = [p["slug"] for p in api.get("/api/v1/programmes/?page=2").json()["results"]]
    assert slugs == [f"programme-{n:03d}" for n in range(49, 99)]


@pytest.fixture
def london(nhse, nhsi):
    region = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    director = f.AppointmentFactory(role=Appointment.Role.REGIONAL_DIRECTOR, region=region)
    f.AppointmentShareFactory(appointment=director, body=nhse, fte_percent=100)
    programme = f.ProgrammeFactory(title="Urgent care", bodies=[nhse], accountable_body=nhse, status="active")
    f.RegionalDeliveryFactory(programme=programme, region=region, rag="amber", note="Behind in two systems.")
    return region


def body(html):
    """The page without the header, whose account menu names the person."""
    return html.split('<main class="nhsuk-main-wrapper', 1)[1].split("</main>", 1)[0]


def test_the_dashboard_is_drawn_once_for_everyone_and_again_when_its_data_changes(staff, nhse, london):
    first, second = Client(), Client()
    first.force_login(staff)
    second.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    rendered, rendered_queries = get(first, "/regions/Y56/")
    cached, cached_queries = get(second, "/regions/Y56/")
    # The next person's page reads none of the dashboard's data, and shows the same.
    assert reads(rendered_queries, "programmes_regionaldelivery") and reads(rendered_queries, "programmes_measure")
    assert not reads(cached_queries, "programmes_regionaldelivery") and not reads(cached_queries, "programmes_measure")
    assert body(cached) == body(rendered) and "Behind in two systems." in cached
    # A change to what it shows, by whatever path, is shown to the next person at once.
    RegionalDelivery.objects.filter(region=london).update(note="Caught up in March.")
    changed, _ = get(second, "/regions/Y56/")
    assert "Caught up in March." in changed and "Behind in two systems." not in changed
    # And to the one who drew it first.
    assert "Caught up in March." in get(first, "/regions/Y56/")[0]


def test_the_dashboard_kept_for_staff_is_not_the_regional_directors(staff, nhse, london):
    client = Client()
    client.force_login(staff)
    assert "/regional-deliveries/" not in get(client, "/regions/Y56/")[0]
    client.force_login(f.UserFactory(role="Regional director", bodies=[nhse], region=london))
    assert "/regional-deliveries/" in get(client, "/regions/Y56/")[0]
    client.force_login(staff)
    assert "/regional-deliveries/" not in get(client, "/regions/Y56/")[0]


def test_the_overview_is_drawn_once_for_everyone_and_again_when_its_data_changes(staff, nhse, london):
    client = Client()
    client.force_login(staff)
    assert "Amber 1" in get(client, "/regions/")[0]
    _, cached_queries = get(client, "/regions/")
    assert not reads(cached_queries, "programmes_regionaldelivery")
    RegionalDelivery.objects.filter(region=london).update(rag="red")
    html = get(client, "/regions/")[0]
    assert "Red 1" in html and "Amber 1" not in html


def test_every_api_list_gives_what_drf_gives(nhse, nhsi, london):
    """The planned list serializer (nhs_joint/api.py) against DRF's own, on records of every kind."""
    from rest_framework import serializers
    from rest_framework.test import APIRequestFactory

    from nhs_joint.api import PlannedListSerializer

    programme = f.ProgrammeFactory(title="Urgent <care>", bodies=[nhse, nhsi], accountable_body=nhse, end_date=None)
    f.WorkstreamFactory(programme=programme, body=nhse, regions=[london], end_date=dt.date(2027, 3, 31))
    f.WorkstreamFactory(programme=programme, body=nhsi, regions=[])
    measure = f.MeasureFactory(standard=None)
    f.ExpectationFactory(programme=programme, issued_by=nhse, region=london, measure=measure)
    f.ExpectationFactory(programme=programme, issued_by=nhsi, region=None)
    f.ProgrammeMeasureFactory(programme=programme, measure=measure)
    f.MeasurementFactory(measure=measure, region=london, month=dt.date(2024, 1, 1), value=87.5)
    f.MeasurementFactory(measure=measure, region=None, month=dt.date(2024, 2, 1), value=90)
    f.BoardApprovalFactory(programme=programme, body=nhse)
    f.ProgrammeRiskFactory(programme=programme)
    joint = f.AppointmentFactory(region=london)
    f.AppointmentShareFactory(appointment=joint, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=joint, body=nhsi, fte_percent=50)
    f.OrganisationFactory(region=london)
    f.LocalHealthSystemFactory(region=london)
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    request = APIRequestFactory().get("/api/v1/")
    request.user = staff
    compared = 0
    for route in registry.api_routes:
        viewset = route.viewset
        serializer_class = getattr(viewset, "serializer_class", None)
        queryset = getattr(viewset, "queryset", None)
        if serializer_class is None or queryset is None:
            continue
        meta = getattr(serializer_class, "Meta", None)
        if getattr(meta, "list_serializer_class", None) is not PlannedListSerializer:
            continue
        rows = list(queryset.all())
        if not rows:  # a kind of record none of the above made: one by its factory (tests/factories.py)
            getattr(f, f"{queryset.model.__name__}Factory")()
            rows = list(queryset.all())
        assert rows, route.prefix
        context = {"request": request, "view": None, "format": None}
        planned = serializer_class(rows, many=True, context=context).data
        plain = serializers.ListSerializer(rows, child=serializer_class(context=context), context=context).data
        assert [dict(row) for row in planned] == [dict(row) for row in plain], route.prefix
        assert [list(row) for row in planned] == [list(row) for row in plain], route.prefix  # the fields' order
        compared += 1
    assert compared >= 8


def same_page(html):
    """A page as drawn, but for what differs on every request by design (its CSRF token and CSP nonce)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


def drawn_from_records(client, resource, url):
    """``url`` drawn from the list's model instances, as before its rows were read as values."""
    values = resource.list.values
    object.__setattr__(resource.list, "values", None)  # a declaration is frozen: put back whatever happens
    try:
        return get(client, url)
    finally:
        object.__setattr__(resource.list, "values", values)


@pytest.mark.usefixtures("deep_from_page_2")
def test_list_rows_read_as_values_draw_what_the_records_drew(client, staff, nhse, nhsi, london):
    """The programmes' and workstreams' lists read their rows as values, with their many-to-many's names in the
    same query: every page (plain, deep, searched, filtered, sorted) is the HTML the model instances gave."""
    north = f.RegionFactory(ods_code="Y54", name="North East and Yorkshire", short_name="")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands")
    urgent = Programme.objects.get(title="Urgent care")
    odd = f.ProgrammeFactory(
        title="Beds & <flow>", theme="new-theme_code", bodies=[nhsi, nhse], accountable_body=None, end_date=None
    )
    bare = f.ProgrammeFactory(title="Quiet programme", integration_stage="one_team", status="proposed")
    bare.bodies.clear()
    for n in range(60):
        f.WorkstreamFactory(
            programme=(urgent, odd, bare)[n % 3],
            title=f'Care stream {n:02d} "quoted" <b>',
            body=(nhse, nhsi)[n % 2],
            audiences=[["providers"], ["local_systems", "providers"], ["commissioners"]][n % 3],
            regions=[[], [london], [north, midlands, london]][n % 3],
            end_date=dt.date(2027, 3, 31) if n % 2 else None,
        )
    programmes = registry.resource_for("programme")
    workstreams = registry.resource_for("workstream")
    assert programmes.list.values is not None and workstreams.list.values is not None
    client.force_login(staff)
    urls = [
        (programmes, "/programmes/"),
        (programmes, "/programmes/?ordering=-theme"),
        (programmes, "/programmes/?q=care"),
        (workstreams, "/workstreams/"),
        (workstreams, "/workstreams/?page=2"),  # deep: by the order kept
        (workstreams, "/workstreams/?region=Y56&page=1"),
        (workstreams, "/workstreams/?region=Y54&region_scope=own"),
        (workstreams, "/workstreams/?ordering=-end_date"),
        (workstreams, "/workstreams/?q=stream&page=2"),
    ]
    for resource, url in urls:
        as_values, value_queries = get(client, url)
        as_records, record_queries = drawn_from_records(client, resource, url)
        assert rows_of(as_values), url
        assert same_page(as_values) == same_page(as_records), url
        # No query of the many-to-many's records of their own: their names came with the rows.
        assert not any("_prefetch_related_val" in q for q in value_queries), (url, value_queries)
        assert any("_prefetch_related_val" in q for q in record_queries), url
    html, _ = get(client, "/workstreams/?region=Y54&region_scope=own")
    assert "North East and Yorkshire, London, Midlands" not in html  # names in the regions' order, short if given
    assert ">London, Midlands, North East and Yorkshire</span>" in html


def test_a_lists_count_and_region_choices_are_kept_per_version_and_follow_a_change(client, staff, nhse, london):
    """Every page of a list has the same count, and every list the same regions to choose from: read once per data
    version (nhs_joint/page_ids.py, nhs_joint/parts.py), and never shown stale."""
    f.WorkstreamFactory.create_batch(3, body=nhse, regions=[london])
    client.force_login(staff)
    first, first_queries = get(client, "/workstreams/?region=Y56")
    assert "Showing 3 workstreams" in first and any("COUNT(*)" in q for q in first_queries)
    assert reads(first_queries, "regions_region")
    again, queries = get(client, "/workstreams/?region=Y56&ordering=title")
    again, queries = get(client, "/workstreams/?region=Y56&ordering=title")
    # The page after the first of its list and version: the person (with the data's version) and the rows.
    assert len(queries) == 2 and not any("COUNT(*)" in q for q in queries), queries
    assert not reads(queries[:1] + queries[2:], "regions_region")
    # A committed change is shown at once: the count, and the regions offered.
    f.WorkstreamFactory(title="Added stream", body=nhse, regions=[london])
    f.RegionFactory(ods_code="Y61", name="South East", short_name="South East")
    changed, changed_queries = get(client, "/workstreams/?region=Y56&ordering=title")
    assert "Showing 4 workstreams" in changed and "Added stream" in changed
    assert any("COUNT(*)" in q for q in changed_queries)
    assert 'value="Y61"' in changed and 'value="Y61"' not in again


def test_a_lists_filters_are_drawn_once_per_person_and_query_with_a_token_of_each_drawing(staff, nhse, london):
    """The filters are the same on every page of a list for a query: drawn once per person, list, query and data
    version (nhs_joint/generic.py, list_filters), each page's "Save this view" form with a CSRF token that works."""
    f.WorkstreamFactory.create_batch(3, body=nhse, regions=[london])
    other = f.UserFactory(role="Staff", bodies=[nhse])
    mine, theirs = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    mine.force_login(staff)
    theirs.force_login(other)
    first, _ = get(mine, "/workstreams/?region=Y56&page=1")
    kept, queries = get(mine, "/workstreams/?region=Y56&page=2")
    assert same_page(first.split("<details", 1)[1].split("</details>", 1)[0]) in same_page(kept)
    # The kept drawing did not read the regions it offers again, and shows what was chosen.
    assert not any(q.startswith('SELECT "regions_region"') for q in queries) and 'value="Y56" checked' in kept
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept)
    their_page, _ = get(theirs, "/workstreams/?region=Y56&page=2")
    their_tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', their_page)
    assert tokens and their_tokens and set(tokens).isdisjoint(their_tokens)
    # Each page's token is its person's: the kept form saves for them, and for no one else.
    form = {"list_name": "workstream", "query": "region=Y56", "name": "London streams"}
    assert mine.post("/saved-views/", {**form, "csrfmiddlewaretoken": tokens[0]}).status_code == 302
    assert theirs.post("/saved-views/", {**form, "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    assert theirs.post("/saved-views/", {**form, "csrfmiddlewaretoken": their_tokens[0]}).status_code == 302


def test_a_filtered_lists_early_page_keeps_its_order_and_follows_a_change(client, staff, nhse, london, monkeypatch):
    """From a list page's third page (page_ids.PAGE_DEEP_OFFSET), the first ids of a list in its order are read once
    per filter and data version, and its other pages up to there are their records by id: a region's workstreams
    cost what the plain list's do. A committed change is shown at once."""
    monkeypatch.setattr(page_ids, "PAGE_DEEP_OFFSET", 50)  # from the second page
    monkeypatch.setattr(page_ids, "DEEP_OFFSET", 100)  # the first 100 ids kept; from the third, the whole order
    programme = f.ProgrammeFactory(bodies=[nhse])
    for n in range(130):
        f.WorkstreamFactory(programme=programme, title=f"Stream {n:03d}", body=nhse, regions=[london])
    f.WorkstreamFactory.create_batch(5, programme=programme, body=nhse, regions=[])  # England-wide: not "own"

    def streams(html):
        return re.findall(r'href="/workstreams/\d+/">(Stream \d{3}|A stream)</a>', html)

    def order_read(sql, limit):
        return sql.startswith('SELECT "programmes_workstream"."id" AS "pk" FROM') and f"LIMIT {limit}" in sql

    url = "/workstreams/?region=Y56&region_scope=own&ordering=title&page={}"
    client.force_login(staff)
    second, queries = get(client, url.format(2))
    assert streams(second) == [f"Stream {n:03d}" for n in range(50, 100)]
    assert sum(order_read(q, 101) for q in queries) == 1
    first, queries = get(client, url.format(1))
    assert streams(first) == [f"Stream {n:03d}" for n in range(50)]
    assert not any(order_read(q, 101) for q in queries) and "Showing 1 to 50 of 130 workstreams" in first
    # A workstream renamed to come first moves every later one a place, at once.
    moved = Workstream.objects.get(title="Stream 120")
    moved.title = "A stream"
    moved.save()
    second, queries = get(client, url.format(2))
    assert streams(second) == [f"Stream {n:03d}" for n in range(49, 99)]
    assert sum(order_read(q, 101) for q in queries) == 1
    third, queries = get(client, url.format(3))
    assert streams(third) == [f"Stream {n:03d}" for n in range(99, 130) if n != 120]
    assert sum(order_read(q, 50001) for q in queries) == 1


def test_a_list_without_filters_builds_its_filterset_only_to_draw_them(client, staff, nhse, london, monkeypatch):
    """A list asked for with none of its filters reads what its filterset gives for no parameters
    (``PortalFilterSet.unfiltered``) without building it: built only to draw the filters, once per person, list,
    query and data version. The page is the one the filterset gave, and a filter still builds it."""
    from measures.filters import MeasurementFilterSet
    from programmes.filters import WorkstreamFilterSet

    f.WorkstreamFactory.create_batch(3, body=nhse, regions=[london])
    built = []
    for filterset_class in (WorkstreamFilterSet, MeasurementFilterSet):
        original = filterset_class.__init__
        monkeypatch.setattr(
            filterset_class,
            "__init__",
            lambda self, *a, _original=original, _class=filterset_class, **k: (
                built.append(_class) or _original(self, *a, **k)
            ),
        )
    client.force_login(staff)
    first, _ = get(client, "/workstreams/")
    assert built == [WorkstreamFilterSet]  # to draw the filters, kept for the next page
    again, _ = get(client, "/workstreams/?page=1")
    assert built == [WorkstreamFilterSet] and same_page(again) == same_page(first)
    assert "Showing 3 workstreams" in again
    filtered, _ = get(client, "/workstreams/?region=Y56")
    assert built == [WorkstreamFilterSet] * 2 and "Showing 3 workstreams" in filtered
    # A list whose filterset filters without parameters (an organisation's own figures are not the list's): the
    # same rows as when the filterset is built (an empty search builds it and filters nothing).
    measure = f.MeasureFactory()
    f.MeasurementFactory(measure=measure, region=london, value=71)
    f.MeasurementFactory(measure=measure, region=None, organisation=f.OrganisationFactory(), value=72)
    plain, _ = get(client, "/measurements/")
    searched, _ = get(client, "/measurements/?q=")
    assert built.count(MeasurementFilterSet) == 2  # once to draw the plain list's filters, once for ?q=
    assert rows_of(plain) == rows_of(searched) and len(rows_of(plain)) == 1


def test_a_lists_sql_is_compiled_once_and_its_rows_read_afresh(client, staff, nhse, monkeypatch):
    """A list whose queryset is the same every time (ListConfig.cache_sql), asked for with none of its filters:
    its page's SQL is compiled once per process (nhs_joint/page_ids.py, ``compiled``), then only read. Only SQL is
    kept: the page is the one compiled each time gave, and a committed change shows on the next drawing."""
    from django.db.models.sql.compiler import SQLCompiler

    monkeypatch.setattr(page_ids, "PAGE_DEEP_OFFSET", 50)  # from the second page, the page's records by id
    Programme.objects.bulk_create(
        [
            Programme(
                title=f"Programme {n:03d}", slug=f"programme-{n:03d}", theme="quality", start_date=dt.date(2019, 4, 1)
            )
            for n in range(70)
        ]
    )
    compiles = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(SQLCompiler, "as_sql", lambda self, *a, **k: compiles.append(1) or original(self, *a, **k))
    client.force_login(staff)
    first, _ = get(client, "/programmes/?page=2")
    assert titles(first) == [f"Programme {n:03d}" for n in range(50, 70)]
    compiles.clear()
    again, queries = get(client, "/programmes/?page=2")
    assert compiles == [] and len(queries) == 2  # the person (with the data's version) and the page's rows
    assert same_page(again) == same_page(first)
    programmes = registry.resource_for("programme")
    object.__setattr__(programmes.list, "cache_sql", False)  # a declaration is frozen: put back whatever happens
    try:
        compiled_each_time, _ = get(client, "/programmes/?page=2")
        assert compiles != []
    finally:
        object.__setattr__(programmes.list, "cache_sql", True)
    assert same_page(compiled_each_time) == same_page(first)
    Programme.objects.filter(slug="programme-060").update(title="Programme 060, renamed")
    changed, _ = get(client, "/programmes/?page=2")
    assert "Programme 060, renamed" in titles(changed)
    # The archived records' list is a shape of its own.
    Programme.objects.filter(slug="programme-065").update(archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    archived, _ = get(client, "/programmes/?archived=yes")
    assert titles(archived) == ["Programme 065"] and "Showing 1 programme" in archived
    current, _ = get(client, "/programmes/?page=2")
    assert "Programme 065" not in titles(current) and "of 69 programmes" in current
    # A filtered list's SQL holds the filter's values: compiled each time, as before.
    get(client, "/programmes/?status=active&page=2")
    compiles.clear()
    get(client, "/programmes/?status=active&page=2")
    assert compiles != []


def header_of(html):
    return html.split("<header", 1)[1].split("</header>", 1)[0]


def test_a_persons_header_is_drawn_once_and_shows_a_change_at_once(client, staff, nhse, monkeypatch):
    """The header and footer are drawn once per person, version of what they show and place in the navigation
    (nhs_joint/jinja2.py, KeptLayout), then reused across the person's pages: a new notification, a new role or a
    new name shows on the next page, each section's link is marked on its own pages, and no person is shown
    another's header."""
    from django.contrib.auth.models import Group

    from nhs_joint import jinja2 as portal_jinja2
    from notifications.models import Notification

    f.ProgrammeFactory(bodies=[nhse])
    drawn = []
    original = portal_jinja2.nav_items
    monkeypatch.setattr(portal_jinja2, "nav_items", lambda request: drawn.append(request.path) or original(request))
    client.force_login(staff)
    first, _ = get(client, "/programmes/")
    again, _ = get(client, "/programmes/?ordering=title")
    assert drawn == ["/programmes/"] and same_page(again.split("<main", 1)[0]) == same_page(first.split("<main", 1)[0])
    assert same_page(again.split("</main>", 1)[1]) == same_page(first.split("</main>", 1)[1])  # the footer
    assert 'href="/programmes/" aria-current="page"' in header_of(first)
    section, _ = get(client, "/workstreams/")
    assert drawn == ["/programmes/", "/workstreams/"]
    assert 'href="/workstreams/" aria-current="page"' in header_of(section)
    assert 'href="/programmes/" aria-current' not in header_of(section)
    Notification.objects.create(user=staff, kind="assigned", text="A finding for you", url="/")
    told, _ = get(client, "/programmes/")
    assert "Notifications (1 unread)" in header_of(told) and "unread" not in header_of(first)
    staff.groups.add(Group.objects.get_or_create(name="Administrator")[0])
    promoted, _ = get(client, "/programmes/")
    assert 'href="/users/"' in header_of(promoted) and 'href="/users/"' not in header_of(first)
    staff.first_name, staff.last_name = "Robin", "Renamed"
    staff.save()
    renamed, _ = get(client, "/programmes/")
    assert "Robin Renamed" in header_of(renamed)
    other = f.UserFactory(role="Staff", bodies=[nhse], first_name="Alex", last_name="Other")
    theirs = Client()
    theirs.force_login(other)
    their_page, _ = get(theirs, "/programmes/")
    assert "Alex Other" in header_of(their_page) and "Robin Renamed" not in their_page and "unread" not in their_page
