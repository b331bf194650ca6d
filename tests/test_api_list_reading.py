"""How an API list reads its rows: the filterset left out when no filter is asked for, related records' keys read
with the row, the representation planned once per serializer; each gives exactly what the general way gives."""

import json

import pytest
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient, APIRequestFactory

from nhs_joint import api
from nhs_joint.registry import registry
from tests import factories as f

pytestmark = pytest.mark.django_db


def routes_with(attribute):
    return [route for route in registry.api_routes if getattr(route.viewset, attribute, None) is not None]


def test_every_unfiltered_list_is_what_its_filterset_gives_for_no_parameters(nhse):
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    checked = 0
    for route in routes_with("filterset_class"):
        viewset = route.viewset
        filterset_class = viewset.filterset_class
        queryset = viewset.queryset.all()
        request = APIRequestFactory().get("/")
        request.user = staff
        expected = str(filterset_class(QueryDict(), queryset=queryset, request=request).qs.query)
        if api.unfiltered_is_known(filterset_class):
            assert str(filterset_class.unfiltered(queryset).query) == expected, route.prefix
            checked += 1
    assert checked >= 10


def test_a_filterset_that_filters_without_parameters_says_so():
    from measures.filters import MeasurementFilterSet

    class Decides(MeasurementFilterSet):
        def filter_queryset(self, queryset):
            return super().filter_queryset(queryset).none()

    assert api.unfiltered_is_known(MeasurementFilterSet)
    assert not api.unfiltered_is_known(Decides)  # its own filter_queryset, no unfiltered of its own


def test_an_unfiltered_list_builds_no_filterset(nhse, monkeypatch):
    from measures.filters import MeasurementFilterSet

    f.MeasurementFactory()
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    built = []
    original = MeasurementFilterSet.__init__
    monkeypatch.setattr(
        MeasurementFilterSet, "__init__", lambda self, *a, **k: built.append(1) or original(self, *a, **k)
    )
    assert client.get("/api/v1/measurements/").status_code == 200
    assert built == []
    assert client.get("/api/v1/measurements/?ordering=month").status_code == 200
    assert built == [1]


@pytest.mark.usefixtures("render_every_time")
def test_every_list_read_with_its_keys_gives_what_drf_gives_from_its_records(nhse, nhsi):
    """Each list's bytes, against DRF's own rendering of the same records read with their related records."""
    london = f.RegionFactory()
    programme = f.ProgrammeFactory(title="Urgent <care>", bodies=[nhse, nhsi], accountable_body=nhse, end_date=None)
    f.WorkstreamFactory(programme=programme, body=nhse, regions=[london])
    f.WorkstreamFactory(programme=programme, body=nhsi, regions=[])
    measure = f.MeasureFactory(standard=None)
    f.ExpectationFactory(programme=programme, issued_by=nhse, region=london, measure=measure)
    f.ExpectationFactory(programme=programme, issued_by=nhsi, region=None)
    f.ProgrammeMeasureFactory(programme=programme, measure=measure)
    f.MeasurementFactory(measure=measure, region=london)
    f.MeasurementFactory(measure=measure, region=None)
    f.BoardApprovalFactory(programme=programme, body=nhse)
    f.ProgrammeRiskFactory(programme=programme)
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    request = APIRequestFactory().get("/api/v1/")
    request.user = staff
    compared = 0
    for route in routes_with("list_queryset"):
        viewset = route.viewset
        rows = list(viewset.queryset.all())
        if not rows:
            continue
        assert not viewset.list_queryset.query.select_related, route.prefix  # the keys, not the records
        response = client.get(f"/api/v1/{route.prefix}/")
        assert response.status_code == 200, route.prefix
        results = response.json()["results"]
        context = {"request": request, "view": None, "format": None}
        plain = serializers.ListSerializer(rows, child=viewset.serializer_class(context=context), context=context)
        expected = json.loads(JSONRenderer().render(plain.data))
        assert len(results) == len(rows) and results == expected, route.prefix
        assert [list(row) for row in results] == [list(row) for row in expected], route.prefix  # the fields' order
        compared += 1
    assert compared >= 6


@pytest.mark.usefixtures("render_every_time")
def test_a_list_of_archived_records_names_their_related_records_without_a_query_per_row(nhse):
    """Archived records are read through another manager (archive.with_archived), with the joins of the records'
    own queryset: their related records' keys still cost no query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    client.get("/api/v1/programme-risks/?archived=true")  # what a first request reads once
    counts = []
    for made in (1, 3):
        for _ in range(made):
            f.ProgrammeRiskFactory(programme=f.ProgrammeFactory(bodies=[nhse])).archive()
        with CaptureQueriesContext(connection) as captured:
            data = client.get("/api/v1/programme-risks/?archived=true").json()
        assert all(row["programme"] for row in data["results"])
        counts.append((len(data["results"]), len(captured)))
    assert [rows for rows, _queries in counts] == [1, 4]
    assert counts[0][1] == counts[1][1], counts


@pytest.mark.usefixtures("render_every_time")
def test_a_deep_pages_records_are_compiled_once_and_read_afresh(nhse, nhsi, monkeypatch):
    """A page read by the ids of its list's kept order (page_ids.rows) compiles its records' query once per list,
    then only reads it: the next page compiles nothing, and a committed change shows on the next reading, with
    the bytes DRF gives for the same records."""
    from nhs_joint import page_ids, prefetch

    monkeypatch.setattr(page_ids, "DEEP_OFFSET", 2)  # from the second page of 2
    programme = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse)
    for n in range(6):
        f.WorkstreamFactory(programme=programme, title=f"Work {n}", body=nhse, regions=[f.RegionFactory()])
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    compiled = []
    original = prefetch.Read.__init__
    monkeypatch.setattr(prefetch.Read, "__init__", lambda self, qs: compiled.append(qs.model) or original(self, qs))

    def titles(page):
        response = client.get(f"/api/v1/workstreams/?page_size=2&page={page}")
        assert response.status_code == 200
        return [row["title"] for row in response.json()["results"]]

    assert titles(2) == ["Work 2", "Work 3"]
    assert compiled == [f.WorkstreamFactory._meta.model]
    assert titles(3) == ["Work 4", "Work 5"]
    assert len(compiled) == 1  # the next page is read, not compiled again
    workstream = programme.workstreams.get(title="Work 4")
    workstream.description = "Changed since the page was compiled"
    workstream.save()
    response = client.get("/api/v1/workstreams/?page_size=2&page=3")
    assert len(compiled) == 1
    request = APIRequestFactory().get("/api/v1/")
    request.user = staff
    context = {"request": request, "view": None, "format": None}
    viewset = [route.viewset for route in registry.api_routes if route.prefix == "workstreams"][0]
    rows = list(viewset.queryset.filter(title__in=["Work 4", "Work 5"]).order_by("title"))
    plain = serializers.ListSerializer(rows, child=viewset.serializer_class(context=context), context=context)
    assert response.json()["results"] == json.loads(JSONRenderer().render(plain.data))
    assert response.json()["results"][0]["description"] == "Changed since the page was compiled"
