"""Every API list runs the same number of SQL queries for a page of 5 as for a page of 50."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments.models import Appointment
from tests import factories as f
from tests.test_query_counts import joint_appointment, programme_rows, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

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
    "programmes": programme_rows,
    "board-approvals": lambda w, n: [f.BoardApprovalFactory(body=w["nhse"]) for _ in range(n)],
    "regional-deliveries": lambda w, n: [
        f.RegionalDeliveryFactory(region=w["regions"][0], lead=f.PersonFactory()) for _ in range(n)
    ],
    "workstreams": lambda w, n: [f.WorkstreamFactory(body=w["nhse"], regions=w["regions"]) for _ in range(n)],
    "expectations": lambda w, n: [f.ExpectationFactory(issued_by=w["nhse"], region=w["regions"][0]) for _ in range(n)],
    "measures": lambda w, n: [f.MeasureFactory() for _ in range(n)],
    "programme-measures": lambda w, n: [f.ProgrammeMeasureFactory() for _ in range(n)],
    "measurements": lambda w, n: [
        f.MeasurementFactory(region=w["regions"][0], month=dt.date(2000 + i // 12, i % 12 + 1, 1)) for i in range(n)
    ],
    "people": lambda w, n: [f.PersonFactory() for _ in range(n)],
    "appointments": lambda w, n: [joint_appointment(w, region=w["regions"][0]) for _ in range(n)],
}


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response.json()["count"]


@pytest.mark.parametrize("resource", list(MAKERS))
def test_api_list_queries_do_not_grow_with_rows(world, resource):  # noqa: F811
    client = APIClient()
    user = f.UserFactory(role="Staff", bodies=[world["nhse"]])
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = f"/api/v1/{resource}/?page_size=50"
    MAKERS[resource](world, 5)
    few, rows_few = count(client, url)
    MAKERS[resource](world, 45)
    many, rows_many = count(client, url)
    if resource != "bodies":
        assert rows_many >= 50 and rows_many > rows_few
    assert many == few, f"{resource}: {few} queries for {rows_few} rows, {many} for {rows_many}"
