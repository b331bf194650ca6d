"""Programme risks: a record declared once (a model, a Resource, a factory) gets pages, an API, a CSV
export, history and the portal's permissions, with no view or viewset written for it."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from nhs_joint.registry import registry
from programmes.models import ProgrammeRisk
from tests import factories as f
from tests.factories import token_for
from tests.test_edits_kept import form_data

pytestmark = pytest.mark.django_db
API = "/api/v1/programme-risks/"


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def world(nhse, nhsi):
    programme = f.ProgrammeFactory(slug="winter", title="Winter", bodies=[nhse], accountable_body=nhse)
    owner = f.PersonFactory(email="owner@example.nhs.uk", name="Olu Owner")
    return {
        "programme": programme,
        "owner": owner,
        "staff": f.UserFactory(role="Staff", bodies=[nhse]),
        "other_staff": f.UserFactory(role="Staff", bodies=[nhsi]),
    }


def test_the_risk_resource_is_served_by_a_derived_viewset_with_natural_keys():
    route = next(route for route in registry.api_routes if route.prefix == "programme-risks")
    assert route.viewset.queryset.model is ProgrammeRisk
    assert route.viewset.__module__ == "programmes.models"  # made from the declaration, not written out
    fields = route.viewset.serializer_class().fields
    assert list(fields) == [
        "id",
        "programme",
        "title",
        "likelihood",
        "impact",
        "owner",
        "mitigation",
        "archived_at",
    ]
    assert fields["programme"].slug_field == "slug" and fields["owner"].slug_field == "email"


def test_a_risk_is_created_through_its_form_and_shown_listed_exported_and_in_history(client, world):
    client.force_login(world["staff"])
    assert client.get("/programme-risks/new/").status_code == 200
    response = client.post(
        "/programme-risks/new/",
        {
            "programme": world["programme"].pk,
            "title": "Too few beds in January",
            "likelihood": "4",
            "impact": "5",
            "owner": world["owner"].pk,
            "mitigation": "Open escalation wards.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    risk = ProgrammeRisk.objects.get(title="Too few beds in January")
    assert (risk.programme, risk.owner, risk.likelihood, risk.impact, risk.score) == (
        world["programme"],
        world["owner"],
        4,
        5,
        20,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "20 out of 25" in detail and "4 – Likely" in detail and "Olu Owner" in detail
    assert "Too few beds in January" in client.get("/programme-risks/?programme=winter").content.decode()
    # Edited through its form: the history says who changed what, from what to what.
    edit = form_data(client.get(f"/programme-risks/{risk.pk}/edit/").content.decode())
    assert (edit["likelihood"], edit["owner"]) == ("4", str(world["owner"].pk))
    edited = client.post(f"/programme-risks/{risk.pk}/edit/", {**edit, "mitigation": "Open two escalation wards."})
    assert edited.status_code == 302
    history = client.get(f"/programme-risks/{risk.pk}/history/").content.decode()
    assert "Created" in history and "Changed" in history and "Mitigation" in history and "two" in history

    exported = client.get("/programme-risks/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:6] == ["Title", "Programme", "Likelihood", "Impact", "Score", "Owner"]
    assert rows[1][:6] == ["Too few beds in January", "Winter", "4 – Likely", "5 – Catastrophic", "20", "Olu Owner"]


def test_the_form_names_a_bad_field_and_refuses_another_bodys_staff(client, world):
    data = {
        "programme": world["programme"].pk,
        "title": "Strikes",
        "likelihood": "9",
        "impact": "3",
        "owner": world["owner"].pk,
    }
    client.force_login(world["staff"])
    response = client.post("/programme-risks/new/", data)
    assert response.status_code == 400
    assert "Select a likelihood from the list." in response.content.decode()

    client.force_login(world["other_staff"])
    response = client.post("/programme-risks/new/", {**data, "likelihood": "2"})
    assert response.status_code == 400
    assert "Only staff of NHS England can change this programme." in response.content.decode()
    assert not ProgrammeRisk.objects.exists()


def test_the_api_writes_risks_by_natural_keys_with_the_portals_rules(world):
    staff = api_client(world["staff"])
    body = {"programme": "winter", "title": "Strikes", "likelihood": 3, "impact": 4, "owner": "owner@example.nhs.uk"}
    created = staff.post(API, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": created.json()["id"],
        "programme": "winter",
        "title": "Strikes",
        "likelihood": 3,
        "impact": 4,
        "owner": "owner@example.nhs.uk",
        "mitigation": "",
        "archived_at": None,
    }
    url = f"{API}{created.json()['id']}/"
    etag = created["ETag"]
    assert staff.get(url)["ETag"] == etag

    # Bad input: a 400 naming the field, nothing written.
    for bad, field, message in [
        ({"likelihood": "3"}, "likelihood", "Give one of the choices, as a whole number."),
        ({"impact": 6}, "impact", '"6" is not a valid choice.'),
        ({"owner": "nobody@example.nhs.uk"}, "owner", "No record has the email “nobody@example.nhs.uk”."),
        ({"programme": "summer"}, "programme", "No record has the programme slug “summer”."),
    ]:
        response = staff.patch(url, bad, format="json")
        assert response.status_code == 400 and response.json() == {field: [message]}, response.json()
    duplicate = staff.post(API, body, format="json")
    assert duplicate.status_code == 400 and "non_field_errors" in duplicate.json()
    assert ProgrammeRisk.objects.count() == 1

    # Another body's staff may neither add to the programme nor change its risks.
    other = api_client(world["other_staff"])
    refused = other.post(API, {**body, "title": "Floods"}, format="json")
    assert refused.status_code == 403 and "Only staff of NHS England" in refused.json()["detail"]
    assert other.patch(url, {"impact": 1}, format="json").status_code == 403

    # If-Match: a stale version is refused, the current one writes and changes the ETag.
    changed = staff.patch(url, {"impact": 5}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["impact"] == 5
    assert staff.patch(url, {"impact": 2}, format="json", HTTP_IF_MATCH=etag).status_code == 412

    # Filters, history, archive and restore, as every resource.
    assert [r["title"] for r in staff.get(API + "?programme=winter&impact=5").json()["results"]] == ["Strikes"]
    assert staff.get(API + "?impact=1").json()["results"] == []
    kinds = [entry["kind"] for entry in staff.get(url + "history/").json()["results"]]
    assert kinds == ["changed", "created"]
    assert staff.delete(url).status_code == 204
    assert staff.get(API).json()["results"] == []
    assert staff.get(url).json()["archived_at"] is not None
    assert staff.post(url + "restore/").json()["archived_at"] is None


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.mark.usefixtures("render_every_time")
def test_risk_pages_and_api_run_as_many_queries_with_50_rows_as_with_5(client, world):
    admin = f.UserFactory(role="Administrator", bodies=[world["programme"].bodies.first()])
    client.force_login(admin)
    api = api_client(admin)
    api.get(API)  # a token's first use is written once, not counted
    risk = f.ProgrammeRiskFactory(programme=world["programme"])
    urls = ["/programme-risks/", f"/programme-risks/{risk.pk}/", API + "?page_size=50"]
    for _ in range(4):
        f.ProgrammeRiskFactory()
    few = [count_queries(client, urls[0]), count_queries(client, urls[1]), count_queries(api, urls[2])]
    for _ in range(45):
        f.ProgrammeRiskFactory()
    many = [count_queries(client, urls[0]), count_queries(client, urls[1]), count_queries(api, urls[2])]
    assert few == many, (few, many)
    assert len(api.get(urls[2]).json()["results"]) == 50
