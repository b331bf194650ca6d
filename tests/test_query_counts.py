"""Every list and detail page runs the same number of SQL queries with 5 rows as with 50 (counted as drawn,
not as answered from a kept drawing: tests/test_page_cache.py counts those)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from nhs_joint.registry import registry
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_every_time")]


@pytest.fixture
def world(nhse, nhsi):
    regions = [f.RegionFactory() for _ in range(3)]
    return {"nhse": nhse, "nhsi": nhsi, "regions": regions}


def programme_rows(world, n):
    rows = []
    for _ in range(n):
        p = f.ProgrammeFactory(bodies=[world["nhse"], world["nhsi"]], accountable_body=world["nhse"])
        rows.append(p)
    return rows


def joint_appointment(world, **kwargs):
    a = f.AppointmentFactory(**kwargs)
    f.AppointmentShareFactory(appointment=a, body=world["nhse"], fte_percent=50)
    f.AppointmentShareFactory(appointment=a, body=world["nhsi"], fte_percent=50)
    return a


# Rows made with the related records each list shows, so that a missing join would show. A kind of record whose
# factory (tests/factories.py, <Model>Factory) makes them so needs no maker here (``maker``): every declared
# resource's list is counted (``LISTS``), so a kind added later is too.
MAKERS = {
    "/programmes/": programme_rows,
    "/workstreams/": lambda w, n: [f.WorkstreamFactory(body=w["nhse"], regions=w["regions"]) for _ in range(n)],
    "/expectations/": lambda w, n: [
        f.ExpectationFactory(issued_by=w["nhse"], region=w["regions"][0]) for _ in range(n)
    ],
    "/appointments/": lambda w, n: [joint_appointment(w, region=w["regions"][0]) for _ in range(n)],
    "/organisations/": lambda w, n: [f.OrganisationFactory(region=w["regions"][0]) for _ in range(n)],
    "/regions/codes/": lambda w, n: [
        joint_appointment(w, region=f.RegionFactory(), role=Appointment.Role.REGIONAL_DIRECTOR).region for _ in range(n)
    ],
    "/local-systems/": lambda w, n: [f.LocalHealthSystemFactory(region=w["regions"][0]) for _ in range(n)],
    "/board-approvals/": lambda w, n: [f.BoardApprovalFactory(body=w["nhse"]) for _ in range(n)],
    "/measurements/": lambda w, n: [
        f.MeasurementFactory(region=w["regions"][0], month=dt.date(2010 + i // 12, i % 12 + 1, 1)) for i in range(n)
    ],
    "/users/": lambda w, n: [f.UserFactory(role="Staff", bodies=[w["nhse"]]) for _ in range(n)],
}


LISTS = {resource.list_url(): resource for resource in sorted(registry.declared_resources(), key=lambda r: r.name)}


def maker(url):
    """How to make n rows of a list: its maker above, or its resource's factory."""
    if url in MAKERS:
        return MAKERS[url]
    factory = getattr(f, f"{LISTS[url].model.__name__}Factory")
    return lambda w, n: factory.create_batch(n)


def count_queries(client, url):
    return counted_page(client, url)[0]


def counted_page(client, url):
    """The queries a page runs, and the page (what it shows is read from it rather than drawn a third time)."""
    # Warm the page's component cache first: a process draws each filter once, then reuses it.
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response.content


@pytest.mark.parametrize("url", list(LISTS))
def test_list_page_queries_do_not_grow_with_rows(client, world, url):
    admin = f.UserFactory(role="Administrator", bodies=[world["nhse"]])
    client.force_login(admin)
    make = maker(url)
    make(world, 5)
    few = count_queries(client, url)
    make(world, 45)
    many, page = counted_page(client, url)
    assert many == few, f"{url}: {few} queries with 5 rows, {many} with 50"
    # Fifty rows drawn: "Showing 50 programmes" when they are all there are, "Showing 1 to 50 of 53 regions" when more.
    assert re.search(rb"Showing (1 to 50 of |50 )", page), url


DETAIL_MAKERS = {
    "programme": lambda w, n, p: (
        [f.WorkstreamFactory(programme=p, body=w["nhse"], regions=w["regions"]) for _ in range(n)],
        [f.ExpectationFactory(programme=p, issued_by=w["nhse"]) for _ in range(n)],
        [f.BoardApprovalFactory(programme=p, body=w["nhse"]) for _ in range(n)],
        [f.ProgrammeMeasureFactory(programme=p) for _ in range(n)],
        [f.RegionalDeliveryFactory(programme=p) for _ in range(n)],
    ),
}


def test_programme_detail_queries_do_not_grow_with_related_rows(client, world):
    client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
    p = f.ProgrammeFactory(bodies=[world["nhse"], world["nhsi"]], accountable_body=world["nhse"])
    url = p.get_absolute_url()
    DETAIL_MAKERS["programme"](world, 2, p)
    few = count_queries(client, url)
    DETAIL_MAKERS["programme"](world, 10, p)
    many = count_queries(client, url)
    assert many == few


def test_region_and_person_detail_queries_do_not_grow(client, world):
    client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
    region = world["regions"][0]
    person = f.PersonFactory()

    def add(n):
        for _ in range(n):
            joint_appointment(world, region=region, person=person)
            f.RegionalDeliveryFactory(region=region)
            f.ExpectationFactory(issued_by=world["nhse"], region=region)
            f.LocalHealthSystemFactory(region=region)

    add(2)
    few = (count_queries(client, region.get_absolute_url()), count_queries(client, person.get_absolute_url()))
    add(10)
    many = (count_queries(client, region.get_absolute_url()), count_queries(client, person.get_absolute_url()))
    assert many == few


def test_measure_and_other_details_queries_do_not_grow(client, world):
    client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
    measure = f.MeasureFactory()
    system = f.LocalHealthSystemFactory(region=world["regions"][0])

    def add(n):
        for _ in range(n):
            f.ProgrammeMeasureFactory(measure=measure)
            f.ExpectationFactory(measure=measure, issued_by=world["nhse"])
            f.OrganisationFactory(local_system=system, region=system.region)

    add(2)
    few = (count_queries(client, measure.get_absolute_url()), count_queries(client, system.get_absolute_url()))
    add(10)
    many = (count_queries(client, measure.get_absolute_url()), count_queries(client, system.get_absolute_url()))
    assert many == few
