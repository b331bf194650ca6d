"""The REST API: every resource by role, natural keys, bad input with nothing written, ETags and If-Match."""

import datetime as dt

import pytest
from django.apps import apps
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments.models import Appointment, AppointmentShare
from programmes.models import Expectation, Measure, Measurement, Programme, RegionalDelivery
from tests import factories as f

pytestmark = pytest.mark.django_db
API = "/api/v1"
LISTS = [
    "bodies", "regions", "local-systems", "organisations", "programmes", "board-approvals", "regional-deliveries",
    "workstreams", "expectations", "measures", "programme-measures", "measurements", "people", "appointments",
]


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def rows():
    """Rows of every portal table, to show that a refused request wrote nothing."""
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ("programmes", "appointments", "organisations", "regions")
    }


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands")
    duty = f.StatutoryDutyFactory(body=nhse, slug="nhse-mandate")
    programme = f.ProgrammeFactory(
        slug="winter", title="Winter", bodies=[nhse], accountable_body=nhse, duty=duty, start_date=dt.date(2018, 4, 1),
    )
    measure = f.MeasureFactory(code="ae-4hr", name="A&E", unit="percent", standard=95)
    person = f.PersonFactory(email="rd@example.nhs.uk", name="Rita Director")
    return {
        "nhse": nhse, "nhsi": nhsi, "london": london, "midlands": midlands, "duty": duty, "programme": programme,
        "measure": measure, "person": person,
        "staff": client_for(f.UserFactory(role="Staff", bodies=[nhse])),
        "other_staff": client_for(f.UserFactory(role="Staff", bodies=[nhsi])),
        "director": client_for(f.UserFactory(role="Regional director", bodies=[nhse], region=london)),
        "midlands_director": client_for(f.UserFactory(role="Regional director", bodies=[nhse], region=midlands)),
        "admin": client_for(f.UserFactory(role="Administrator", bodies=[nhse])),
        "anonymous": client_for(),
    }


# What a member of NHS England's staff may create, for each writable resource, and a change to make.
def payloads(w):
    return {
        "programmes": (
            {"title": "Elective recovery", "bodies": ["NHSE"], "integration_stage": "aligned", "accountable_body": "NHSE",
             "duty": "nhse-mandate", "status": "proposed", "start_date": "2019-04-01"},
            {"status": "approved"},
        ),
        "board-approvals": (
            {"programme": "winter", "body": "NHSE", "decision": "approved", "date": "2018-05-01", "minute_reference": "B1"},
            {"decision": "deferred"},
        ),
        "workstreams": (
            {"programme": "winter", "title": "Discharge", "body": "NHSE", "regions": ["Y56"], "audiences": ["providers"],
             "start_date": "2018-04-01"},
            {"regions": ["Y56", "Y60"]},
        ),
        "expectations": (
            {"programme": "winter", "issued_by": "NHSE", "audience": "providers", "region": None, "measure": "ae-4hr",
             "comparator": ">=", "target": 95, "start_date": "2018-04-01", "due_date": "2019-03-31", "wording": "Meet it."},
            {"target": 90},
        ),
        "measures": (
            {"code": "rtt-18wk", "name": "RTT", "unit": "percent", "direction": "higher", "standard": 92, "comparator": ">="},
            {"name": "Referral to treatment"},
        ),
        "programme-measures": (
            {"programme": "winter", "measure": "ae-4hr", "target": 95, "agreed_on": "2018-06-01", "agreed_by": ["NHSE"]},
            {"target": 94},
        ),
        "measurements": (
            {"measure": "ae-4hr", "region": "Y56", "month": "2019-04-01", "value": 87.5, "source": "entered"},
            {"value": 88},
        ),
        "people": ({"name": "Pat Example", "email": "Pat@Example.nhs.uk"}, {"name": "Patricia Example"}),
        "appointments": (
            {"person": "rd@example.nhs.uk", "title": "Director of Winter", "role": "programme_director",
             "programme": "winter", "start_date": "2018-10-01", "shares": [{"body": "NHSE", "fte_percent": 100}]},
            {"title": "Director of Winter and Flow"},
        ),
    }


KEYS = {"programmes": "slug", "measures": "code"}


@pytest.mark.parametrize("resource", LISTS)
def test_anonymous_requests_get_401(world, resource):
    response = world["anonymous"].get(f"{API}/{resource}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("resource", LISTS)
def test_every_signed_in_user_reads_every_list(world, resource):
    for who in ("staff", "director", "admin"):
        response = world[who].get(f"{API}/{resource}/")
        assert response.status_code == 200, (who, resource)
        assert {"count", "next", "previous", "results"} <= set(response.json())


WRITABLE = [
    "programmes", "board-approvals", "workstreams", "expectations", "measures", "programme-measures", "measurements",
    "people", "appointments",
]


def same(got, value):
    if isinstance(value, list):
        return sorted(got) == sorted(value)
    if isinstance(value, (int, float)):
        return float(got) == float(value)
    return got == value


@pytest.mark.parametrize("resource", WRITABLE)
def test_staff_create_read_update_and_delete(world, resource):
    create, change = payloads(world)[resource]
    client = world["staff"]
    response = client.post(f"{API}/{resource}/", create, format="json")
    assert response.status_code == 201, response.json()
    key = response.json()[KEYS.get(resource, "id")]
    url = f"{API}/{resource}/{key}/"
    read = client.get(url)
    assert read.status_code == 200 and read["ETag"]
    updated = client.patch(url, change, format="json", HTTP_IF_MATCH=read["ETag"])
    assert updated.status_code == 200, updated.json()
    for field, value in change.items():
        assert same(updated.json()[field], value), (field, updated.json()[field])
    assert updated["ETag"] != read["ETag"]
    put = client.put(url, {**create, **change}, format="json")
    assert put.status_code == 200, put.json()
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("resource", ["programmes", "workstreams", "expectations", "board-approvals", "appointments"])
def test_staff_of_the_other_body_are_refused_with_a_reason(world, resource):
    create, _ = payloads(world)[resource]
    before = rows()
    response = world["other_staff"].post(f"{API}/{resource}/", create, format="json")
    assert response.status_code in (400, 403)
    assert "NHS England" in str(response.json()) or "a body you work for (NHS Improvement)" in str(response.json())
    assert rows() == before


def test_the_other_bodys_staff_cannot_change_or_delete_a_programme(world):
    url = f"{API}/programmes/winter/"
    assert world["other_staff"].patch(url, {"title": "Taken over"}, format="json").status_code == 403
    response = world["other_staff"].delete(url)
    assert response.status_code == 403
    assert "Only staff of NHS England" in response.json()["detail"]
    assert Programme.objects.get(slug="winter").title == "Winter"


@pytest.mark.parametrize("resource", ["programmes", "measures", "people", "appointments"])
def test_administrators_manage_users_not_records(world, resource):
    create, _ = payloads(world)[resource]
    response = world["admin"].post(f"{API}/{resource}/", create, format="json")
    assert response.status_code == 403
    assert "Only Staff and Regional directors" in response.json()["detail"]


@pytest.mark.parametrize("resource", ["bodies", "regions", "local-systems", "organisations"])
def test_reference_data_is_read_only(world, resource):
    response = world["staff"].post(f"{API}/{resource}/", {"code": "X"}, format="json")
    assert response.status_code == 405


class TestRegionalDelivery:
    def test_only_the_regions_director_records_and_changes_it(self, world):
        payload = {"programme": "winter", "region": "Y56", "rag": "amber", "lead": "rd@example.nhs.uk", "note": "Behind"}
        assert world["staff"].post(f"{API}/regional-deliveries/", payload, format="json").status_code == 403
        refused = world["midlands_director"].post(f"{API}/regional-deliveries/", payload, format="json")
        assert refused.status_code == 400 and "Only the Regional director of London" in refused.json()["region"][0]
        created = world["director"].post(f"{API}/regional-deliveries/", payload, format="json")
        assert created.status_code == 201, created.json()
        url = f"{API}/regional-deliveries/{created.json()['id']}/"
        assert world["staff"].patch(url, {"rag": "green"}, format="json").status_code == 403
        assert world["midlands_director"].patch(url, {"rag": "green"}, format="json").status_code == 403
        changed = world["director"].patch(url, {"rag": "green"}, format="json")
        assert changed.status_code == 200 and changed.json()["rag"] == "green"
        assert RegionalDelivery.objects.get().rag == "green"


class TestNaturalKeys:
    def test_related_records_are_named_by_their_keys_in_and_out(self, world):
        client = world["staff"]
        response = client.post(f"{API}/workstreams/", payloads(world)["workstreams"][0], format="json")
        data = response.json()
        assert (data["programme"], data["body"], data["regions"], data["audiences"]) == (
            "winter", "NHSE", ["Y56"], ["providers"]
        )
        programme = client.get(f"{API}/programmes/winter/").json()
        assert (programme["bodies"], programme["accountable_body"], programme["duty"]) == (["NHSE"], "NHSE", "nhse-mandate")

    def test_an_appointment_is_written_with_its_shares_nested(self, world):
        payload = {**payloads(world)["appointments"][0], "shares": [{"body": "NHSE", "fte_percent": 50},
                                                                    {"body": "NHSI", "fte_percent": 50}]}
        staff_of_both = client_for(f.UserFactory(role="Staff", bodies=[world["nhse"], world["nhsi"]]))
        response = staff_of_both.post(f"{API}/appointments/", payload, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["joint"] is True
        assert sorted((s["body"], float(s["fte_percent"])) for s in response.json()["shares"]) == [("NHSE", 50), ("NHSI", 50)]
        url = f"{API}/appointments/{response.json()['id']}/"
        moved = staff_of_both.patch(url, {"shares": [{"body": "NHSE", "fte_percent": 100}]}, format="json")
        assert moved.status_code == 200 and moved.json()["joint"] is False
        assert AppointmentShare.objects.count() == 1

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ("programme", "no-such-programme", "No record has the programme slug “no-such-programme”."),
            ("body", "NHSX", "No record has the body code “NHSX”."),
            ("regions", ["Y99"], "No record has the region ODS code “Y99”."),
            ("body", 7, "Give the body code as text."),
        ],
    )
    def test_an_unknown_key_is_named_and_nothing_written(self, world, field, value, message):
        before = rows()
        payload = {**payloads(world)["workstreams"][0], field: value}
        response = world["staff"].post(f"{API}/workstreams/", payload, format="json")
        assert response.status_code == 400
        assert message in str(response.json()[field])
        assert rows() == before


class TestBadInput:
    @pytest.mark.parametrize(
        "change, field",
        [
            ({"title": None}, "title"),
            ({"start_date": "1st April"}, "start_date"),
            ({"start_date": 20180401}, "start_date"),
            ({"bodies": "NHSE"}, "bodies"),
            ({"status": "finished"}, "status"),
            ({"end_date": "2018-03-31", "start_date": "2018-04-01"}, "end_date"),
            ({"accountable_body": "NHSI"}, "accountable_body"),
            ({"title": "x" * 201}, "title"),
        ],
    )
    def test_each_bad_field_gets_a_message_and_nothing_is_written(self, world, change, field):
        before = rows()
        payload = {**payloads(world)["programmes"][0], **change}
        payload = {k: v for k, v in payload.items() if v is not None}
        response = world["staff"].post(f"{API}/programmes/", payload, format="json")
        assert response.status_code == 400, response.json()
        assert field in response.json(), response.json()
        assert rows() == before

    def test_a_body_that_is_not_json_is_a_400(self, world):
        response = world["staff"].post(
            f"{API}/programmes/", "{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_shares_not_totalling_100_write_neither_appointment_nor_shares(self, world):
        before = rows()
        payload = {**payloads(world)["appointments"][0], "shares": [{"body": "NHSE", "fte_percent": 90}]}
        response = world["staff"].post(f"{API}/appointments/", payload, format="json")
        assert response.status_code == 400
        assert "must total 100%" in response.json()["shares"][0]
        assert rows() == before and not Appointment.objects.exists()

    def test_a_second_measurement_for_the_same_month_is_refused(self, world):
        create = payloads(world)["measurements"][0]
        assert world["staff"].post(f"{API}/measurements/", create, format="json").status_code == 201
        again = world["staff"].post(f"{API}/measurements/", create, format="json")
        assert again.status_code == 400
        assert "already a measurement" in str(again.json())
        assert Measurement.objects.count() == 1

    def test_a_month_that_is_not_a_first_day_is_refused(self, world):
        payload = {**payloads(world)["measurements"][0], "month": "2019-04-15"}
        response = world["staff"].post(f"{API}/measurements/", payload, format="json")
        assert response.status_code == 400 and "month" in str(response.json())

    def test_a_percentage_over_100_is_refused(self, world):
        payload = {**payloads(world)["measurements"][0], "value": 101}
        response = world["staff"].post(f"{API}/measurements/", payload, format="json")
        assert response.status_code == 400 and "between 0 and 100" in str(response.json()["value"])

    def test_an_expectation_from_a_body_that_does_not_run_the_programme(self, world):
        staff_of_both = client_for(f.UserFactory(role="Staff", bodies=[world["nhse"], world["nhsi"]]))
        payload = {**payloads(world)["expectations"][0], "issued_by": "NHSI"}
        response = staff_of_both.post(f"{API}/expectations/", payload, format="json")
        assert response.status_code == 400 and "NHSI does not run Winter" in response.json()["issued_by"][0]
        assert not Expectation.objects.exists()

    def test_a_record_in_use_is_not_deleted(self, world):
        f.ExpectationFactory(programme=world["programme"], issued_by=world["nhse"], measure=world["measure"])
        response = world["staff"].delete(f"{API}/measures/ae-4hr/")
        assert response.status_code == 409
        assert Measure.objects.filter(code="ae-4hr").exists()


class TestConcurrency:
    def test_a_stale_if_match_gets_412_and_changes_nothing(self, world):
        client = world["staff"]
        url = f"{API}/programmes/winter/"
        etag = client.get(url)["ETag"]
        assert client.patch(url, {"title": "Winter 2018"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
        stale = client.patch(url, {"title": "Winter (stale)"}, format="json", HTTP_IF_MATCH=etag)
        assert stale.status_code == 412
        assert "changed since you read it" in stale.json()["detail"]
        stale_put = client.put(url, {**payloads(world)["programmes"][0], "title": "Stale"}, format="json", HTTP_IF_MATCH=etag)
        assert stale_put.status_code == 412
        assert Programme.objects.get(slug="winter").title == "Winter 2018"

    def test_every_single_record_carries_an_etag(self, world):
        client = world["staff"]
        for url in [f"{API}/programmes/winter/", f"{API}/measures/ae-4hr/", f"{API}/regions/Y56/", f"{API}/bodies/NHSE/",
                    f"{API}/people/{world['person'].pk}/"]:
            response = client.get(url)
            assert response.status_code == 200 and response["ETag"].startswith('"'), url


class TestListsAndTokens:
    def test_filters_search_ordering_and_pages(self, world):
        for i in range(60):
            f.ProgrammeFactory(title=f"Programme {i:02d}", bodies=[world["nhse"]], accountable_body=world["nhse"], status="active")
        client = world["staff"]
        page = client.get(f"{API}/programmes/?status=active").json()
        assert page["count"] == 60 + (world["programme"].status == "active") and len(page["results"]) == 50 and page["next"] and page["previous"] is None
        assert client.get(page["next"]).json()["results"][-1]["title"]
        small = client.get(f"{API}/programmes/?status=active&page_size=5&ordering=title").json()
        assert [p["title"] for p in small["results"]] == [f"Programme {i:02d}" for i in (0, 1, 2, 3, 4)]
        assert client.get(f"{API}/programmes/?q=Winter").json()["count"] == 1
        assert client.get(f"{API}/programmes/?status=finished").status_code == 400

    def test_a_token_for_a_username_and_password(self, world):
        user = f.UserFactory(username="token.user", role="Staff", bodies=[world["nhse"]])
        response = APIClient().post(f"{API}/auth/token/", {"username": "token.user", "password": "correct horse battery staple"}, format="json")
        assert response.status_code == 200
        token = response.json()["token"]
        assert Token.objects.get(user=user).key == token
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get(f"{API}/programmes/").status_code == 200
        bad = APIClient().post(f"{API}/auth/token/", {"username": "token.user", "password": "wrong"}, format="json")
        assert bad.status_code == 400 and "non_field_errors" in bad.json()

    def test_the_session_of_the_browser_works_too(self, world, client):
        client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
        assert client.get(f"{API}/programmes/").status_code == 200

    def test_schema_and_docs_are_served_without_a_cdn(self, world, client):
        client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
        schema = client.get("/api/schema/?format=json").json()
        responses = schema["paths"]["/api/v1/programmes/{slug}/"]["patch"]["responses"]
        assert {"200", "400", "401", "403", "404", "412"} <= set(responses)
        docs = client.get("/api/docs/").content.decode()
        assert "swagger-ui" in docs and "cdn" not in docs.lower() and "unpkg" not in docs
