"""Every API list (every route of the registry but a person's own work) runs the same number of SQL queries for a
page of 5 as for a page of 50."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from appointments.models import Appointment
from nhs_joint import page_ids
from tests import factories as f
from tests.factories import token_for
from tests.routes import api_resources, every_route

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(nhse, nhsi):
    return {"nhse": nhse, "nhsi": nhsi, "regions": [f.RegionFactory() for _ in range(3)]}


def joint_appointment(w, **kwargs):
    appointment = f.AppointmentFactory(person=f.PersonFactory(), **kwargs)
    f.AppointmentShareFactory(appointment=appointment, body=w["nhse"], fte_percent=50)
    f.AppointmentShareFactory(appointment=appointment, body=w["nhsi"], fte_percent=50)
    return appointment


def programmes(w, n):
    made = []
    for _ in range(n):
        director = joint_appointment(w)
        duty = f.StatutoryDutyFactory(body=w["nhse"])
        made.append(
            f.ProgrammeFactory(
                bodies=[w["nhse"], w["nhsi"]],
                accountable_body=w["nhse"],
                duty=duty,
                senior_responsible_owner=director,
            )
        )
    return made


def programme_measures(w, n):
    made = []
    for _ in range(n):
        made.append(f.ProgrammeMeasureFactory())
        made[-1].agreed_by.set([w["nhse"], w["nhsi"]])
    return made


def findings(w, n):
    run = f.ReportRunFactory(requested_by=f.UserFactory())
    return [f.FindingFactory(run=run, region=w["regions"][i % 3]) for i in range(n)]


# Each row made with the related records its representation names, so that a missing join would show. A kind of
# record whose factory (tests/factories.py, <Model>Factory) makes them so needs no maker here (``maker``).
MAKERS = {
    # Two bodies only: what grows is the duties each one lists.
    "bodies": lambda w, n: [f.StatutoryDutyFactory(body=w["nhse"]) for _ in range(n)],
    "regions": lambda w, n: [
        joint_appointment(w, region=f.RegionFactory(), role=Appointment.Role.REGIONAL_DIRECTOR).region for _ in range(n)
    ],
    "local-systems": lambda w, n: [f.LocalHealthSystemFactory(region=w["regions"][0]) for _ in range(n)],
    "organisations": lambda w, n: [
        f.OrganisationFactory(region=w["regions"][0], local_system=f.LocalHealthSystemFactory(region=w["regions"][0]))
        for _ in range(n)
    ],
    "programmes": programmes,
    "board-approvals": lambda w, n: [f.BoardApprovalFactory(body=w["nhse"]) for _ in range(n)],
    "regional-deliveries": lambda w, n: [
        f.RegionalDeliveryFactory(region=w["regions"][0], lead=f.PersonFactory()) for _ in range(n)
    ],
    "workstreams": lambda w, n: [f.WorkstreamFactory(body=w["nhse"], regions=w["regions"]) for _ in range(n)],
    "expectations": lambda w, n: [f.ExpectationFactory(issued_by=w["nhse"], region=w["regions"][0]) for _ in range(n)],
    "programme-measures": programme_measures,
    "measurements": lambda w, n: [
        f.MeasurementFactory(region=w["regions"][0], month=dt.date(2000 + i // 12, i % 12 + 1, 1)) for i in range(n)
    ],
    "appointments": lambda w, n: [joint_appointment(w, region=w["regions"][0]) for _ in range(n)],
    "report-runs": lambda w, n: [f.ReportRunFactory(requested_by=f.UserFactory()) for _ in range(n)],
    "findings": findings,
}


def maker(prefix):
    """How to make n records of a route of the API: its maker above, or its resource's factory."""
    if prefix in MAKERS:
        return MAKERS[prefix]
    (resource,) = [r for r in api_resources() if r.prefix == prefix] or [None]
    assert resource is not None, f"{prefix}: a route with no resource needs a maker in MAKERS"
    factory = getattr(f, f"{resource.model.__name__}Factory")
    return lambda w, n: factory.create_batch(n)


def count(client, url):
    # Counted as a first drawing: a list's count kept from the request before (page_ids.cached_count) is forgotten.
    page_ids.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("resource", every_route())
def test_api_list_queries_do_not_grow_with_rows(world, resource):
    client = APIClient()
    user = f.UserFactory(role="Staff", bodies=[world["nhse"]])
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    url = f"/api/v1/{resource}/?page_size="
    # A token's use is written on its first request, then at most every few minutes: not counted here.
    assert client.get(url + "1").status_code == 200
    make = maker(resource)
    make(world, 5)
    few, shown_few = count(client, url + "50")
    make(world, 45)
    small_page, shown_small = count(client, url + "5")
    full_page, shown_full = count(client, url + "50")
    if resource != "bodies":  # there are two bodies, whatever grows
        assert shown_few >= 5 and (shown_small, shown_full) == (5, 50)
    assert few == small_page == full_page, (
        f"{resource}: {few} queries for 5 rows, {small_page} for a page of 5 and {full_page} for a page of 50"
    )


def test_a_lists_many_to_many_keys_come_in_its_rows_query_in_their_models_order(nhse, nhsi):
    """Regions and bodies named by their keys are read with the rows (nhs_joint.api.natural_keys), not by a second
    query that makes a model instance of each, and in the order the related model declares (regions by name)."""
    north, south = f.RegionFactory(name="North"), f.RegionFactory(name="Aardvark")
    two = f.WorkstreamFactory(title="Two regions", body=nhse, regions=[north, south])
    f.WorkstreamFactory(title="No region", body=nhse, regions=[])
    programme = f.ProgrammeFactory(bodies=[nhsi, nhse])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(f.UserFactory(role='Staff', bodies=[nhse]))}")
    with CaptureQueriesContext(connection) as queries:
        workstreams = {w["title"]: w["regions"] for w in api.get("/api/v1/workstreams/").json()["results"]}
        programmes = {p["slug"]: p["bodies"] for p in api.get("/api/v1/programmes/").json()["results"]}
    assert workstreams["Two regions"] == [south.ods_code, north.ods_code] and workstreams["No region"] == []
    assert programmes[programme.slug] == sorted([nhse.code, nhsi.code])
    assert not [q["sql"] for q in queries.captured_queries if "_prefetch_related_val" in q["sql"]]
    # A record's own page reads them as before, in the same order.
    assert api.get(f"/api/v1/workstreams/{two.pk}/").json()["regions"] == [south.ods_code, north.ods_code]
