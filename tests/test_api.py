"""The REST API: every resource by role, natural keys, bad input with nothing written, ETags and If-Match."""

import datetime as dt

import pytest
from django.apps import apps
from rest_framework.test import APIClient
from rest_framework.viewsets import ReadOnlyModelViewSet

from accounts.models import ApiToken
from appointments.models import Appointment, AppointmentShare, Person
from asks.models import Expectation
from measures.models import Measure, Measurement
from nhs_joint import permissions
from nhs_joint.api import Api
from nhs_joint.generic import PermissionConfig, Resource, register
from nhs_joint.registry import ApiRoute, registry
from organisations.models import NationalBody, StatutoryDuty
from programmes.models import Programme, ProgrammeRisk, RegionalDelivery
from regions.models import Region
from tests import factories as f
from tests.conftest import shared_test_data
from tests.factories import token_for
from tests.routes import (
    PERSONAL,
    api_resources,
    archived_on_delete,
    every_route,
    never_deleted,
    read_only,
    writable,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
# The lists of resources are read from the registry (tests/routes.py), never kept by hand, so that a kind of record
# declared later (docs/adding-a-record.md) is walked by every test here; TestTheListsComeFromTheRegistry proves it.
# Every kind of record the API serves from its declaration; the writable ones, and the regional deliveries, whose
# records only a region's director creates and changes (TestRegionalDelivery).
SERVED = [resource.prefix for resource in api_resources()]
WRITABLE = writable()
ARCHIVED_ON_DELETE = archived_on_delete()
NEVER_DELETED = never_deleted()
READ_ONLY = read_only()
ALL = every_route()
# Read across the resources (tests/test_search.py; the consultations open to a person, tests/test_consultation_loop.py
# and tests/notifications/test_consultation_loop.py): not resources themselves, but their errors are documented too.
ACROSS = ["search", "consultations"]
# The field in a record's address, where it is not the id (a programme's slug, a measure's code).
KEYS = {r.prefix: r.lookup for r in api_resources() if r.lookup != "pk"}


def client_for(user=None):
    return client_for_token(None if user is None else token_for(user))


def client_for_token(token):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def record_at(url):
    """The record an API address names, archived or not."""
    prefix, key = url.removeprefix(f"{API}/").strip("/").split("/")
    (resource,) = [r for r in api_resources() if r.prefix == prefix]
    return resource.get_object(key)


def rows():
    """Rows of every portal table, to show that a refused request wrote nothing."""
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label
        in ("programmes", "measures", "asks", "appointments", "organisations", "regions", "reports")
    }


# Who asks, by the name the tests give them: (role, the body they work for, their region).
ASKING = {
    "staff": ("Staff", "nhse", None),
    "other_staff": ("Staff", "nhsi", None),
    "director": ("Regional director", "nhse", "london"),
    "midlands_director": ("Regional director", "nhse", "midlands"),
    "admin": ("Administrator", "nhse", None),
}


def make_world():
    """The bodies, regions, a programme and a measure, and a user of each role with an API token: the keys of
    the records and the tokens (the tests read the records afresh, `world`)."""
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands")
    duty = f.StatutoryDutyFactory(body=nhse, slug="nhse-mandate")
    programme = f.ProgrammeFactory(
        slug="winter",
        title="Winter",
        bodies=[nhse],
        accountable_body=nhse,
        duty=duty,
        start_date=dt.date(2018, 4, 1),
    )
    f.MeasureFactory(code="ae-4hr", name="A&E", unit="percent", standard=95)
    person = f.PersonFactory(email="rd@example.nhs.uk", name="Rita Director")
    made = {"nhse": nhse, "nhsi": nhsi, "london": london, "midlands": midlands}
    tokens = {
        who: token_for(f.UserFactory(role=role, bodies=[made[body]], region=made[region] if region else None))
        for who, (role, body, region) in ASKING.items()
    }
    return {"duty": duty.pk, "programme": programme.pk, "person": person.pk, "tokens": tokens}


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker):
    """The world made once for the module: every test here reads it, and what a test writes (in its own
    savepoint, pytest-django's `db`) is rolled back after it."""
    yield from shared_test_data(django_db_blocker, make_world)


@pytest.fixture
def world(db, world_once):
    """The shared world's records, read afresh for each test, and an API client for each role (and none)."""
    clients = {who: client_for_token(token) for who, token in world_once["tokens"].items()}
    return {**read_world(world_once), **clients, "anonymous": client_for()}


def read_world(world_once):
    """The records of `make_world`, read from the database."""
    return {
        "nhse": NationalBody.objects.get(code="NHSE"),
        "nhsi": NationalBody.objects.get(code="NHSI"),
        "london": Region.objects.get(ods_code="Y56"),
        "midlands": Region.objects.get(ods_code="Y60"),
        "duty": StatutoryDuty.objects.get(pk=world_once["duty"]),
        "programme": Programme.objects.get(pk=world_once["programme"]),
        "measure": Measure.objects.get(code="ae-4hr"),
        "person": Person.objects.get(pk=world_once["person"]),
    }


@pytest.fixture(scope="class")
def records_once(world_once, django_db_blocker):
    """`make_records` made once for a class that asks for it (``@pytest.mark.usefixtures("records_once")``): all
    of the class's tests then have these records, and what a test writes is rolled back after it."""
    yield from shared_test_data(django_db_blocker, lambda: make_records(read_world(world_once)))


@pytest.fixture
def records(request, world):
    """The address of an existing record of every resource: those of `records_once` in a class that uses it,
    otherwise made for the test alone (in a class whose other tests must not find them)."""
    if "records_once" in request.fixturenames:
        return request.getfixturevalue("records_once")
    return make_records(world)


def make_records(w):
    """One existing record of every resource, owned by NHS England where records have an owner: its address."""
    system = f.LocalHealthSystemFactory(ods_code="QMF", region=w["london"])
    f.OrganisationFactory(ods_code="RJ1", region=w["london"], local_system=system)
    appointment = f.AppointmentFactory(person=f.PersonFactory(email="pd@example.nhs.uk"), programme=w["programme"])
    f.AppointmentShareFactory(appointment=appointment, body=w["nhse"], fte_percent=100)
    finding = f.FindingFactory(region=w["london"])
    made = {
        "bodies": "NHSE",
        "regions": "Y56",
        "local-systems": "QMF",
        "organisations": "RJ1",
        "programmes": "winter",
        "board-approvals": f.BoardApprovalFactory(programme=w["programme"], body=w["nhse"]).pk,
        "regional-deliveries": f.RegionalDeliveryFactory(programme=w["programme"], region=w["london"]).pk,
        "workstreams": f.WorkstreamFactory(programme=w["programme"], body=w["nhse"], regions=[w["london"]]).pk,
        "expectations": f.ExpectationFactory(programme=w["programme"], issued_by=w["nhse"], measure=w["measure"]).pk,
        "measures": f.MeasureFactory(code="cancer-2ww", name="Cancer two-week wait").code,
        "programme-measures": f.ProgrammeMeasureFactory(programme=w["programme"], measure=w["measure"]).pk,
        "measurements": f.MeasurementFactory(measure=w["measure"], region=w["london"], month=dt.date(2019, 1, 1)).pk,
        "people": f.PersonFactory(email="someone@example.nhs.uk").pk,
        "appointments": appointment.pk,
        "report-runs": finding.run.pk,
        "findings": finding.pk,
        "programme-risks": f.ProgrammeRiskFactory(programme=w["programme"], owner=w["person"]).pk,
    }
    return {resource: f"{API}/{resource}/{key}/" for resource, key in made.items()}


# What a member of NHS England's staff may create, for each writable resource, and a change to make.
def same_value(read, written):
    """A value read back from the API is the one written (numbers may come back as decimal strings)."""
    if isinstance(written, (int, float)) and not isinstance(written, bool):
        return float(read) == float(written)
    return read == written


def payloads(w):
    return {
        "programmes": (
            {
                "title": "Elective recovery",
                "bodies": ["NHSE"],
                "integration_stage": "aligned",
                "accountable_body": "NHSE",
                "duty": "nhse-mandate",
                "status": "proposed",
                "start_date": "2019-04-01",
            },
            {"status": "approved"},
        ),
        "board-approvals": (
            {
                "programme": "winter",
                "body": "NHSE",
                "decision": "approved",
                "date": "2018-05-01",
                "minute_reference": "B1",
            },
            {"decision": "deferred"},
        ),
        "workstreams": (
            {
                "programme": "winter",
                "title": "Discharge",
                "body": "NHSE",
                "regions": ["Y56"],
                "audiences": ["providers"],
                "start_date": "2018-04-01",
            },
            {"regions": ["Y56", "Y60"]},
        ),
        "expectations": (
            {
                "programme": "winter",
                "issued_by": "NHSE",
                "audience": "providers",
                "region": None,
                "measure": "ae-4hr",
                "comparator": ">=",
                "target": 95,
                "start_date": "2018-04-01",
                "due_date": "2019-03-31",
                "wording": "Meet it.",
            },
            {"target": 90},
        ),
        "measures": (
            {
                "code": "rtt-18wk",
                "name": "RTT",
                "unit": "percent",
                "direction": "higher",
                "standard": 92,
                "comparator": ">=",
            },
            {"name": "Referral to treatment"},
        ),
        "programme-measures": (
            {
                "programme": "winter",
                "measure": "ae-4hr",
                "target": 95,
                "agreed_on": "2018-06-01",
                "agreed_by": ["NHSE"],
            },
            {"target": 94},
        ),
        "measurements": (
            {"measure": "ae-4hr", "region": "Y56", "month": "2019-04-01", "value": 87.5, "source": "entered"},
            {"value": 88, "reason": "Revised in the published statistics"},
        ),
        "people": ({"name": "Pat Example", "email": "Pat@Example.nhs.uk"}, {"name": "Patricia Example"}),
        "appointments": (
            {
                "person": "rd@example.nhs.uk",
                "title": "Director of Winter",
                "role": "programme_director",
                "programme": "winter",
                "start_date": "2018-10-01",
                "shares": [{"body": "NHSE", "fte_percent": 100}],
            },
            {"title": "Director of Winter and Flow"},
        ),
        "regional-deliveries": (
            {"programme": "winter", "region": "Y56", "rag": "amber", "lead": "rd@example.nhs.uk", "note": "Behind"},
            {"rag": "red"},
        ),
        "programme-risks": (
            {"programme": "winter", "title": "Strikes", "likelihood": 2, "impact": 4, "owner": "rd@example.nhs.uk"},
            {"likelihood": 3, "mitigation": "Agree cover with the trusts."},
        ),
    }


def same(got, value):
    if isinstance(value, list):
        return sorted(got) == sorted(value)
    if isinstance(value, (int, float)):
        return float(got) == float(value)
    return got == value


def refused(response, status, *words):
    assert response.status_code == status, (response.status_code, response.content[:300])
    for word in words:
        assert word in str(response.json()), response.json()


@pytest.mark.usefixtures("records_once")
class TestAnonymous:
    @pytest.mark.parametrize("resource", ALL)
    def test_every_request_gets_401_and_writes_nothing(self, world, records, resource):
        client, before = world["anonymous"], rows()
        create = payloads(world).get(resource, ({"kind": "consistency"}, None))[0]
        for response in [
            client.get(f"{API}/{resource}/"),
            client.get(records[resource]),
            client.post(f"{API}/{resource}/", create, format="json"),
            client.put(records[resource], create, format="json"),
            client.patch(records[resource], create, format="json"),
            client.delete(records[resource]),
        ]:
            assert response.status_code == 401, (response.request["REQUEST_METHOD"], response.status_code)
            assert response["WWW-Authenticate"].startswith("Token")
            assert "detail" in response.json()
        assert rows() == before

    def test_a_bad_token_is_401_too(self, world):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
        assert client.get(f"{API}/programmes/").status_code == 401


@pytest.mark.usefixtures("records_once")
class TestReading:
    @pytest.mark.parametrize("resource", ALL)
    def test_every_role_reads_every_list_and_record_with_its_etag(self, world, records, resource):
        for who in ("staff", "other_staff", "director", "admin"):
            page = world[who].get(f"{API}/{resource}/")
            assert page.status_code == 200, (who, resource)
            assert {"count", "next", "previous", "results"} <= set(page.json())
            assert page.json()["count"] >= 1
            record = world[who].get(records[resource])
            assert record.status_code == 200, (who, resource)
            assert record["ETag"].startswith('"') and len(record["ETag"]) > 2

    def test_a_missing_record_is_a_json_404(self, world):
        response = world["staff"].get(f"{API}/programmes/no-such-programme/")
        refused(response, 404, "detail")
        assert response["Content-Type"] == "application/json"


class TestWriting:
    @pytest.mark.parametrize("who", ["staff", "director"])
    @pytest.mark.parametrize("resource", WRITABLE)
    def test_staff_of_the_body_create_read_update_and_delete(self, world, resource, who):
        create, change = payloads(world)[resource]
        client = world[who]
        response = client.post(f"{API}/{resource}/", create, format="json")
        assert response.status_code == 201, response.json()
        key = response.json()[KEYS.get(resource, "id")]
        url = f"{API}/{resource}/{key}/"
        read = client.get(url)
        assert read.status_code == 200 and read["ETag"]
        for field, value in create.items():
            if field not in ("shares", "email"):
                assert same(read.json()[field], value), (field, read.json()[field])
        updated = client.patch(url, change, format="json", HTTP_IF_MATCH=read["ETag"])
        assert updated.status_code == 200, updated.json()
        for field, value in change.items():
            if field != "reason":  # written, never shown: kept in the record's history
                assert same(updated.json()[field], value), (field, updated.json()[field])
        assert updated["ETag"] != read["ETag"]
        assert client.get(url).json() == updated.json()
        put = client.put(url, {**create, **change}, format="json", HTTP_IF_MATCH=updated["ETag"])
        assert put.status_code == 200, put.json()
        if resource in NEVER_DELETED:
            refused(client.delete(url), 405, "never deleted")
        elif resource in ARCHIVED_ON_DELETE:
            assert client.delete(url).status_code == 204
            # DELETE archives: out of the list, still readable, restorable.
            assert client.get(url).json()["archived_at"] is not None
            listed = client.get(f"{API}/{resource}/").json()["results"]
            assert str(key) not in [str(r[KEYS.get(resource, "id")]) for r in listed]
            assert client.post(f"{url}restore/").json()["archived_at"] is None
        else:
            assert client.delete(url).status_code == 204
            assert client.get(url).status_code == 404

    @pytest.mark.parametrize("resource", SERVED)
    def test_create_and_update_answer_with_the_etag_a_following_get_gives(self, world, resource):
        create, change = payloads(world)[resource]
        client = world["director" if resource == "regional-deliveries" else "staff"]
        created = client.post(f"{API}/{resource}/", create, format="json")
        assert created.status_code == 201, created.json()
        url = f"{API}/{resource}/{created.json()[KEYS.get(resource, 'id')]}/"
        read = client.get(url)
        assert created["ETag"] == read["ETag"] and created.json() == read.json()
        # The ETag of the 201 is good for If-Match at once, without reading the record again.
        updated = client.patch(url, change, format="json", HTTP_IF_MATCH=created["ETag"])
        assert updated.status_code == 200, updated.json()
        again = client.get(url)
        assert updated["ETag"] == again["ETag"] != created["ETag"] and updated.json() == again.json()
        stale = client.patch(url, change, format="json", HTTP_IF_MATCH=created["ETag"])
        assert stale.status_code == 412 and client.get(url)["ETag"] == again["ETag"]

    def test_a_joint_programme_is_edited_by_either_bodys_staff(self, world):
        world["programme"].bodies.add(world["nhsi"])
        changed = world["other_staff"].patch(f"{API}/programmes/winter/", {"title": "Winter (joint)"}, format="json")
        assert changed.status_code == 200 and Programme.objects.get(slug="winter").title == "Winter (joint)"

    def test_a_programme_cannot_be_handed_to_a_body_you_do_not_work_for(self, world):
        refused(
            world["staff"].patch(
                f"{API}/programmes/winter/", {"bodies": ["NHSI"], "accountable_body": "NHSI"}, format="json"
            ),
            403,
            "a body you work for (NHS England)",
        )
        assert list(Programme.objects.get(slug="winter").bodies.values_list("code", flat=True)) == ["NHSE"]


@pytest.mark.usefixtures("records_once")
class TestWritingRecordsThatExist:
    """Changes to the records of `records_once`, made once for the class."""

    @pytest.mark.parametrize("resource", WRITABLE)
    def test_staff_of_the_other_body_change_only_records_of_no_body(self, world, records, resource):
        # Whose record it is, as its model declares (nhs_joint/records.py: parent_field, editing_bodies()); the
        # declarations themselves are checked against the rules in tests/test_permission_matrix.py.
        owners = record_at(records[resource]).editing_bodies()
        if owners is None:
            self.either_bodys_staff_edit(world, records, resource)
        else:
            assert [body.code for body in owners] == ["NHSE"], (resource, owners)
            self.the_other_bodys_staff_are_refused_with_a_reason(world, records, resource)

    @staticmethod
    def the_other_bodys_staff_are_refused_with_a_reason(world, records, resource):
        create, change = payloads(world)[resource]
        client, url = world["other_staff"], records[resource]
        before, record = rows(), world["staff"].get(url).json()
        refused(client.post(f"{API}/{resource}/", create, format="json"), 403, "NHS")
        refused(client.patch(url, change, format="json"), 403, "Only staff of NHS England")
        refused(client.put(url, create, format="json"), 403, "Only staff of NHS England")
        refused(client.delete(url), 403, "Only staff of NHS England", "NHS Improvement")
        assert rows() == before
        assert world["staff"].get(url).json() == record

    @staticmethod
    def either_bodys_staff_edit(world, records, resource):
        create, change = payloads(world)[resource]
        client = world["other_staff"]
        created = client.post(f"{API}/{resource}/", create, format="json")
        assert created.status_code == 201
        assert created.json() in client.get(f"{API}/{resource}/").json()["results"]  # read back as written
        assert client.patch(records[resource], change, format="json").status_code == 200
        changed = client.get(records[resource]).json()
        read = [name for name in change if name in changed]  # a correction's reason is written, not read
        assert read and all(same_value(changed[name], change[name]) for name in read), (change, changed)
        if resource in NEVER_DELETED:
            assert client.delete(records[resource]).status_code == 405
            assert client.get(records[resource]).json() == changed  # still there, as it was
        elif resource in ARCHIVED_ON_DELETE:
            # DELETE archives: the record reads back archived and leaves the list.
            assert client.delete(records[resource]).status_code == 204
            archived = client.get(records[resource]).json()
            assert archived["archived_at"] is not None
            assert archived not in client.get(f"{API}/{resource}/").json()["results"]
        else:
            assert client.delete(records[resource]).status_code == 204
            assert client.get(records[resource]).status_code == 404

    @pytest.mark.parametrize("resource", SERVED)
    def test_administrators_manage_users_not_records(self, world, records, resource):
        create, change = payloads(world)[resource]
        client, url = world["admin"], records[resource]
        before, record = rows(), world["staff"].get(url).json()
        refused(client.post(f"{API}/{resource}/", create, format="json"), 403)
        refused(client.patch(url, change, format="json"), 403)
        refused(client.put(url, create, format="json"), 403)
        refused(client.delete(url), 405 if resource in NEVER_DELETED else 403)
        assert rows() == before
        assert world["staff"].get(url).json() == record
        if resource != "regional-deliveries":
            assert (
                "Only Staff and Regional directors"
                in client.post(f"{API}/{resource}/", create, format="json").json()["detail"]
            )

    @pytest.mark.parametrize("resource", READ_ONLY)
    def test_read_only_resources_answer_405_to_writes(self, world, records, resource):
        client, before = world["staff"], rows()
        for response in [
            client.post(f"{API}/{resource}/", {"code": "X"}, format="json"),
            client.put(records[resource], {"code": "X"}, format="json"),
            client.patch(records[resource], {"code": "X"}, format="json"),
            client.delete(records[resource]),
        ]:
            refused(response, 405, "detail")
            assert "POST" not in response["Allow"] and "GET" in response["Allow"]
        assert rows() == before

    def test_report_runs_are_requested_not_edited(self, world, records):
        client = world["staff"]
        for response in [
            client.put(records["report-runs"], {"kind": "duplication"}, format="json"),
            client.patch(records["report-runs"], {"kind": "duplication"}, format="json"),
            client.delete(records["report-runs"]),
        ]:
            refused(response, 405)
        requested = client.post(f"{API}/report-runs/", {"kind": "duplication"}, format="json")
        assert requested.status_code == 202 and requested.json()["status"] == "queued"
        assert client.get(f"{API}/report-runs/{requested.json()['id']}/")["ETag"]


class TestRegionalDelivery:
    def test_only_the_regions_director_records_changes_and_deletes_it(self, world):
        create, change = payloads(world)["regional-deliveries"]
        before = rows()
        refused(
            world["staff"].post(f"{API}/regional-deliveries/", create, format="json"), 403, "Only Regional directors"
        )
        refused(
            world["midlands_director"].post(f"{API}/regional-deliveries/", create, format="json"),
            403,
            "Only the Regional director of London",
        )
        assert rows() == before
        created = world["director"].post(f"{API}/regional-deliveries/", create, format="json")
        assert created.status_code == 201, created.json()
        assert (created.json()["programme"], created.json()["region"], created.json()["lead"]) == (
            "winter",
            "Y56",
            "rd@example.nhs.uk",
        )
        url = f"{API}/regional-deliveries/{created.json()['id']}/"
        for who in ("staff", "midlands_director", "other_staff"):
            refused(world[who].patch(url, change, format="json"), 403, "Regional director")
            refused(world[who].delete(url), 405, "never deleted")
        assert RegionalDelivery.objects.get().rag == "amber"
        changed = world["director"].patch(url, change, format="json", HTTP_IF_MATCH=world["director"].get(url)["ETag"])
        assert changed.status_code == 200 and changed.json()["rag"] == "red"
        assert RegionalDelivery.objects.get().rag == "red"
        moved = world["director"].patch(url, {"region": "Y60"}, format="json")
        refused(moved, 403, "Only the Regional director of Midlands")
        assert RegionalDelivery.objects.get().region.ods_code == "Y56"
        refused(world["director"].delete(url), 405, "Regional deliveries are never deleted")
        assert RegionalDelivery.objects.exists()


class TestNaturalKeys:
    def test_related_records_are_named_by_their_keys_in_and_out(self, world, records):
        client = world["staff"]
        response = client.post(f"{API}/workstreams/", payloads(world)["workstreams"][0], format="json")
        data = response.json()
        assert (data["programme"], data["body"], data["regions"], data["audiences"]) == (
            "winter",
            "NHSE",
            ["Y56"],
            ["providers"],
        )
        programme = client.get(f"{API}/programmes/winter/").json()
        assert (programme["bodies"], programme["accountable_body"], programme["duty"]) == (
            ["NHSE"],
            "NHSE",
            "nhse-mandate",
        )
        organisation = client.get(records["organisations"]).json()
        assert (organisation["code"], organisation["region"], organisation["local_system"]) == ("RJ1", "Y56", "QMF")
        assert client.get(records["local-systems"]).json()["region"] == "Y56"
        body = client.get(records["bodies"]).json()
        assert body["code"] == "NHSE" and body["duties"][0]["slug"] == "nhse-mandate"
        expectation = client.get(records["expectations"]).json()
        assert (expectation["programme"], expectation["issued_by"], expectation["measure"]) == (
            "winter",
            "NHSE",
            "ae-4hr",
        )
        appointment = client.get(records["appointments"]).json()
        assert (appointment["person"], appointment["programme"], appointment["shares"]) == (
            "pd@example.nhs.uk",
            "winter",
            [{"body": "NHSE", "fte_percent": 100.0}],
        )
        assert client.get(records["findings"]).json()["region"] == "Y56"

    def test_a_region_names_its_regional_director(self, world):
        appointment = f.AppointmentFactory(
            person=world["person"],
            role=Appointment.Role.REGIONAL_DIRECTOR,
            region=world["london"],
            title="RD London",
        )
        for body in ("nhse", "nhsi"):
            f.AppointmentShareFactory(appointment=appointment, body=world[body], fte_percent=50)
        region = world["staff"].get(f"{API}/regions/Y56/").json()
        assert region["code"] == "Y56"
        assert region["regional_director"] == {
            "appointment": appointment.pk,
            "person": "rd@example.nhs.uk",
            "name": "Rita Director",
            "joint": True,
        }
        assert world["staff"].get(f"{API}/regions/Y60/").json()["regional_director"] is None

    def test_an_appointment_is_written_with_its_shares_nested(self, world):
        payload = {
            **payloads(world)["appointments"][0],
            "shares": [{"body": "NHSE", "fte_percent": 50}, {"body": "NHSI", "fte_percent": 50}],
        }
        staff_of_both = client_for(f.UserFactory(role="Staff", bodies=[world["nhse"], world["nhsi"]]))
        response = staff_of_both.post(f"{API}/appointments/", payload, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["joint"] is True
        assert sorted((s["body"], float(s["fte_percent"])) for s in response.json()["shares"]) == [
            ("NHSE", 50),
            ("NHSI", 50),
        ]
        url = f"{API}/appointments/{response.json()['id']}/"
        moved = staff_of_both.patch(url, {"shares": [{"body": "NHSE", "fte_percent": 100}]}, format="json")
        assert moved.status_code == 200 and moved.json()["joint"] is False
        assert AppointmentShare.objects.count() == 1

    @pytest.mark.parametrize(
        "resource, field, value, message",
        [
            ("workstreams", "programme", "no-such-programme", "No record has the programme slug “no-such-programme”."),
            ("workstreams", "body", "NHSX", "No record has the body code “NHSX”."),
            ("workstreams", "regions", ["Y99"], "No record has the region ODS code “Y99”."),
            ("workstreams", "body", 7, "Give the body code as text."),
            ("programmes", "bodies", ["NHSE", "NHSX"], "No record has the body code “NHSX”."),
            ("programmes", "duty", "no-such-duty", "No record has the duty slug “no-such-duty”."),
            ("programmes", "senior_responsible_owner", 999999, "object does not exist"),
            ("expectations", "measure", "no-such-measure", "No record has the measure code “no-such-measure”."),
            ("expectations", "region", "Y99", "No record has the region ODS code “Y99”."),
            ("expectations", "region", "", "Give the region ODS code, or null."),
            ("board-approvals", "body", "NHSX", "No record has the body code “NHSX”."),
            ("programme-measures", "agreed_by", ["NHSX"], "No record has the body code “NHSX”."),
            ("measurements", "measure", "no-such-measure", "No record has the measure code “no-such-measure”."),
            ("measurements", "region", "", "Give the region ODS code, or null."),
            ("appointments", "person", "nobody@example.nhs.uk", "No record has the email “nobody@example.nhs.uk”."),
            ("appointments", "region", "Y99", "No record has the region ODS code “Y99”."),
            ("appointments", "programme", "no-such-programme", "No record has the programme slug “no-such-programme”."),
            ("appointments", "shares", [{"body": "NHSX", "fte_percent": 100}], "No record has the body code “NHSX”."),
        ],
    )
    def test_an_unknown_key_is_named_and_nothing_written(self, world, resource, field, value, message):
        before = rows()
        payload = {**payloads(world)[resource][0], field: value}
        response = world["staff"].post(f"{API}/{resource}/", payload, format="json")
        assert response.status_code == 400, response.json()
        assert message in str(response.json()[field]), response.json()
        assert rows() == before


class TestBadInput:
    @pytest.mark.parametrize(
        "resource, required",
        [
            ("programmes", {"title", "bodies", "start_date"}),
            ("board-approvals", {"programme", "body", "decision", "date"}),
            ("workstreams", {"programme", "title", "body", "audiences", "start_date"}),
            (
                "expectations",
                {
                    "programme",
                    "issued_by",
                    "audience",
                    "measure",
                    "comparator",
                    "target",
                    "start_date",
                    "due_date",
                    "wording",
                },
            ),
            ("measures", {"code", "name", "unit", "direction"}),
            ("programme-measures", {"programme", "measure", "target", "agreed_on", "agreed_by"}),
            ("measurements", {"measure", "month", "value"}),
            ("people", {"name", "email"}),
            ("appointments", {"person", "title", "role", "start_date", "shares"}),
            ("regional-deliveries", {"programme", "region", "rag"}),
        ],
    )
    def test_missing_fields_are_each_named_and_nothing_is_written(self, world, resource, required):
        before = rows()
        response = world["director"].post(f"{API}/{resource}/", {}, format="json")
        assert response.status_code == 400, response.json()
        assert set(response.json()) == required
        assert all("required" in " ".join(messages) for messages in response.json().values())
        assert rows() == before

    @pytest.mark.parametrize(
        "resource, change, field",
        [
            ("programmes", {"title": 7}, "title"),
            ("programmes", {"start_date": "1st April"}, "start_date"),
            ("programmes", {"start_date": 20180401}, "start_date"),
            ("programmes", {"bodies": "NHSE"}, "bodies"),
            ("programmes", {"bodies": {"NHSE": True}}, "bodies"),
            ("programmes", {"status": "finished"}, "status"),
            ("programmes", {"title": "x" * 201}, "title"),
            ("programmes", {"senior_responsible_owner": "1"}, "senior_responsible_owner"),
            ("programmes", {"accountable_body": "NHSI"}, "accountable_body"),
            ("expectations", {"target": "ninety"}, "target"),
            ("expectations", {"target": "95"}, "target"),
            ("expectations", {"comparator": "=="}, "comparator"),
            ("expectations", {"wording": ["Meet it."]}, "wording"),
            ("workstreams", {"audiences": "providers"}, "audiences"),
            ("workstreams", {"audiences": ["patients"]}, "audiences"),
            ("measurements", {"value": "87.5"}, "value"),
            ("measurements", {"value": True}, "value"),
            ("measurements", {"value": 101}, "value"),
            ("measurements", {"month": "2019-04-15"}, "month"),
            ("measures", {"standard": "high"}, "standard"),
            ("measures", {"code": "not a slug"}, "code"),
            ("people", {"email": "not an email"}, "email"),
            ("people", {"name": None}, "name"),
            ("appointments", {"role": "chief"}, "role"),
            ("appointments", {"shares": {"body": "NHSE", "fte_percent": 100}}, "shares"),
            ("appointments", {"shares": [{"body": "NHSE", "fte_percent": "100"}]}, "shares"),
            ("appointments", {"shares": [{"body": "NHSE", "fte_percent": 120}]}, "shares"),
            ("appointments", {"shares": [{"body": "NHSE"}]}, "shares"),
            ("board-approvals", {"decision": "maybe"}, "decision"),
            ("programme-measures", {"agreed_on": "June 2018"}, "agreed_on"),
        ],
    )
    def test_each_bad_field_gets_a_message_and_nothing_is_written(self, world, resource, change, field):
        before = rows()
        payload = {**payloads(world)[resource][0], **change}
        response = world["staff"].post(f"{API}/{resource}/", payload, format="json")
        assert response.status_code == 400, response.json()
        assert field in response.json(), response.json()
        assert rows() == before

    @pytest.mark.parametrize(
        "resource, change, field",
        [
            ("programmes", {"start_date": "2018-04-01", "end_date": "2018-03-31"}, "end_date"),
            ("workstreams", {"start_date": "2018-04-01", "end_date": "2018-03-31"}, "end_date"),
            ("expectations", {"start_date": "2018-04-01", "due_date": "2018-03-31"}, "due_date"),
            ("appointments", {"start_date": "2018-10-01", "end_date": "2018-09-30"}, "end_date"),
        ],
    )
    def test_dates_out_of_order_are_refused_and_nothing_is_written(self, world, resource, change, field):
        before = rows()
        payload = {**payloads(world)[resource][0], **change}
        response = world["staff"].post(f"{API}/{resource}/", payload, format="json")
        assert response.status_code == 400, response.json()
        assert field in response.json(), response.json()
        assert rows() == before

    def test_a_body_that_is_not_json_is_a_400_and_a_form_is_a_415(self, world):
        before = rows()
        response = world["staff"].post(f"{API}/programmes/", "{not json", content_type="application/json")
        refused(response, 400, "JSON parse error")
        form = world["staff"].post(f"{API}/people/", {"name": "Pat", "email": "pat@example.nhs.uk"}, format="multipart")
        refused(form, 415, "Unsupported media type")
        assert rows() == before

    def test_shares_not_totalling_100_write_neither_appointment_nor_shares(self, world):
        before = rows()
        payload = {**payloads(world)["appointments"][0], "shares": [{"body": "NHSE", "fte_percent": 90}]}
        response = world["staff"].post(f"{API}/appointments/", payload, format="json")
        assert response.status_code == 400
        assert "must total 100%" in response.json()["shares"][0]
        assert rows() == before and not Appointment.objects.exists()

    def test_changing_shares_to_a_wrong_total_keeps_the_old_ones(self, world, records):
        before, url = rows(), records["appointments"]
        response = world["staff"].patch(url, {"shares": [{"body": "NHSE", "fte_percent": 60}]}, format="json")
        assert response.status_code == 400 and "must total 100%" in response.json()["shares"][0]
        assert rows() == before
        assert list(AppointmentShare.objects.values_list("body__code", "fte_percent")) == [("NHSE", 100)]

    def test_a_second_measurement_for_the_same_month_is_refused(self, world):
        create = payloads(world)["measurements"][0]
        assert world["staff"].post(f"{API}/measurements/", create, format="json").status_code == 201
        again = world["staff"].post(f"{API}/measurements/", create, format="json")
        assert again.status_code == 400
        assert "already a measurement" in str(again.json())
        assert Measurement.objects.count() == 1

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

    def test_a_record_in_use_is_archived_not_deleted(self, world, nhse):
        f.ExpectationFactory(programme=world["programme"], issued_by=world["nhse"], measure=world["measure"])
        refused(world["staff"].delete(f"{API}/measures/ae-4hr/?permanently=true"), 403, "Only an Administrator")
        admin = client_for(f.UserFactory(role="Administrator", bodies=[nhse]))
        refused(admin.delete(f"{API}/measures/ae-4hr/?permanently=true"), 409, "depend on it")
        assert world["staff"].delete(f"{API}/measures/ae-4hr/").status_code == 204
        assert Measure.all_objects.get(code="ae-4hr").archived_at is not None
        refused(admin.delete(f"{API}/measures/ae-4hr/?permanently=true"), 409, "depend on it")
        refused(world["staff"].patch(f"{API}/measures/ae-4hr/", {"name": "Renamed"}, format="json"), 409, "archived")

    @pytest.mark.parametrize(
        "query, parameter",
        [
            ("page=0", "page"),
            ("page=two", "page"),
            ("page=1&page=2", "page"),
            ("page_size=0", "page_size"),
            ("page_size=501", "page_size"),
            ("page_size=", "page_size"),
            ("status=finished", "status"),
            ("status=", "status"),
            ("body=", "body"),
            ("q=", "q"),
            ("theme=cancer&theme=finance", "theme"),  # bodies may be given more than once; a theme may not
            ("body=NOPE", "body"),
        ],
    )
    def test_bad_list_parameters_are_named(self, world, query, parameter):
        response = world["staff"].get(f"{API}/programmes/?{query}")
        assert response.status_code == 400, (query, response.json())
        assert parameter in response.json()

    @pytest.mark.parametrize("query", ["active=null", "active=", "active=yes"])
    def test_a_boolean_filter_takes_true_or_false(self, world, query):
        assert world["staff"].get(f"{API}/regions/?{query}").status_code == 400
        assert world["staff"].get(f"{API}/regions/?active=true").json()["count"] == 2

    def test_a_page_past_the_last_is_404(self, world):
        refused(world["staff"].get(f"{API}/programmes/?page=2"), 404, "Invalid page")

    def test_an_empty_region_for_a_chart_is_not_england(self, world):
        response = world["staff"].get(f"{API}/measures/ae-4hr/spc/?region=")
        assert response.status_code == 400 and "region" in response.json()
        assert world["staff"].get(f"{API}/measures/ae-4hr/spc/").json()["region"] is None


@pytest.mark.usefixtures("records_once")
class TestConcurrency:
    @pytest.mark.parametrize("resource", SERVED)
    def test_a_stale_if_match_gets_412_and_changes_nothing(self, world, records, resource):
        create, change = payloads(world)[resource]
        client, url = (world["director"], records[resource])
        etag = client.get(url)["ETag"]
        # Someone else changes the record meanwhile.
        assert client.patch(url, change, format="json", HTTP_IF_MATCH=etag).status_code == 200
        current = client.get(url)
        assert current["ETag"] != etag
        before = rows()
        stale = client.patch(url, change, format="json", HTTP_IF_MATCH=etag)
        refused(stale, 412, "changed since you read it")
        put = {**create, **change}
        if resource == "people":
            put["email"] = current.json()["email"]
        refused(client.put(url, put, format="json", HTTP_IF_MATCH=etag), 412)
        assert rows() == before
        assert client.get(url).json() == current.json() and client.get(url)["ETag"] == current["ETag"]

    def test_the_current_etag_or_a_star_or_none_lets_the_change_through(self, world):
        client, url = world["staff"], f"{API}/programmes/winter/"
        etag = client.get(url)["ETag"]
        assert client.patch(url, {"title": "A"}, format="json", HTTP_IF_MATCH=f'"x", {etag}').status_code == 200
        assert client.patch(url, {"title": "B"}, format="json", HTTP_IF_MATCH="*").status_code == 200
        assert client.patch(url, {"title": "C"}, format="json").status_code == 200
        assert Programme.objects.get(slug="winter").title == "C"

    def test_bad_input_is_a_400_even_with_a_stale_if_match(self, world):
        client, url = world["staff"], f"{API}/programmes/winter/"
        response = client.patch(url, {"status": "finished"}, format="json", HTTP_IF_MATCH='"0"')
        assert response.status_code == 400 and "status" in response.json()


class TestListsAndTokens:
    def test_filters_search_ordering_and_pages(self, world):
        for i in range(60):
            f.ProgrammeFactory(
                title=f"Programme {i:02d}", bodies=[world["nhse"]], accountable_body=world["nhse"], status="active"
            )
        client = world["staff"]
        page = client.get(f"{API}/programmes/?status=active").json()
        assert page["count"] == 60 + (world["programme"].status == "active") and len(page["results"]) == 50
        assert page["next"] and page["previous"] is None
        second = client.get(page["next"]).json()
        assert len(second["results"]) == page["count"] - 50 and second["previous"] and second["next"] is None
        small = client.get(f"{API}/programmes/?status=active&page_size=5&ordering=title").json()
        assert [p["title"] for p in small["results"]] == [f"Programme {i:02d}" for i in (0, 1, 2, 3, 4)]
        descending = client.get(f"{API}/programmes/?status=active&page_size=1&ordering=-title").json()
        assert descending["results"][0]["title"] == "Winter"
        assert client.get(f"{API}/programmes/?q=Winter").json()["count"] == 1
        assert client.get(f"{API}/programmes/?body=NHSI").json()["count"] == 0

    def test_a_token_for_a_username_and_password(self, world):
        user = f.UserFactory(username="token.user", role="Staff", bodies=[world["nhse"]])
        response = APIClient().post(
            f"{API}/auth/token/", {"username": "token.user", "password": "correct horse battery staple"}, format="json"
        )
        assert response.status_code == 200
        token = response.json()["token"]
        # Kept only as a digest; the token itself is shown once.
        assert not ApiToken.objects.filter(user=user, digest=token).exists()
        assert ApiToken.objects.get(user=user).digest == ApiToken.digest_of(token)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert client.get(f"{API}/programmes/").status_code == 200
        bad = APIClient().post(f"{API}/auth/token/", {"username": "token.user", "password": "wrong"}, format="json")
        assert bad.status_code == 400 and "non_field_errors" in bad.json()
        missing = APIClient().post(f"{API}/auth/token/", {"username": "token.user"}, format="json")
        assert missing.status_code == 400 and "password" in missing.json()

    def test_the_token_endpoint_takes_json_only_and_needs_no_sign_in(self, world):
        f.UserFactory(username="token.user", role="Staff", bodies=[world["nhse"]])
        url, body = f"{API}/auth/token/", {"username": "token.user", "password": "correct horse battery staple"}
        for encoding in ("multipart", None):  # None: application/x-www-form-urlencoded
            response = (
                APIClient().post(url, body)
                if encoding
                else APIClient().post(
                    url, "username=token.user&password=x", content_type="application/x-www-form-urlencoded"
                )
            )
            assert response.status_code == 415 and "detail" in response.json(), encoding
        # A stale token or a session sent along is not read: they cannot turn the request into a 401 or 403.
        stale = APIClient()
        stale.credentials(HTTP_AUTHORIZATION="Token not-a-token")
        assert stale.post(url, body, format="json").status_code == 200
        signed_in = APIClient(enforce_csrf_checks=True)
        signed_in.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
        assert signed_in.post(url, body, format="json").status_code == 200
        assert APIClient().post(url, {"username": "token.user", "password": 7}, format="json").status_code == 400

    def test_the_schema_documents_the_token_endpoint_as_open_and_json_only(self, world, client):
        client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
        schema = client.get("/api/schema/?format=json").json()
        operation = schema["paths"]["/api/v1/auth/token/"]["post"]
        assert not operation.get("security") and not schema.get("security")
        assert list(operation["requestBody"]["content"]) == ["application/json"]
        assert set(operation["responses"]) == {"200", "400", "403", "415", "429"}
        assert set(schema["components"]["schemas"]["AuthToken"]["required"]) == {"token", "expiry"}
        # Every other operation still asks for a sign-in.
        for path, operations in schema["paths"].items():
            for method, other in operations.items():
                if path != "/api/v1/auth/token/":
                    assert {"tokenAuth": []} in other["security"], (method, path)

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
        assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200

    def test_every_operation_documents_its_errors(self, world, client):
        client.force_login(f.UserFactory(role="Staff", bodies=[world["nhse"]]))
        schema = client.get("/api/schema/?format=json").json()
        resources = {
            path.split("/")[3] for path in schema["paths"] if path.startswith("/api/v1/") and "auth" not in path
        }
        assert resources == set(ALL) | set(PERSONAL) | set(ACROSS)
        for path, operations in schema["paths"].items():
            if "auth/token" in path:
                continue
            for method, operation in operations.items():
                codes = set(operation["responses"])
                assert {"400", "401", "403"} <= codes, (method, path, codes)
                if "{" in path:
                    assert "404" in codes, (method, path)
                if method == "post" and "{" not in path and "201" in codes:  # a created record, to GET back
                    assert "ETag" in operation["responses"]["201"]["headers"], (method, path)
                if method in ("put", "patch"):
                    assert "412" in codes and "ETag" in operation["responses"]["200"]["headers"], (method, path)
                    assert any(p["name"] == "If-Match" for p in operation["parameters"]), (method, path)


class TestTheListsComeFromTheRegistry:
    """A kind of record declared by docs/adding-a-record.md alone is walked by every test above."""

    def test_a_resource_registered_later_joins_every_list(self, monkeypatch):
        # Registered into copies of the registry's lists, which are put back after the test.
        monkeypatch.setattr(registry, "resources", list(registry.declared_resources()))
        monkeypatch.setattr(
            registry, "api_routes", [*registry.api_routes, ApiRoute("readings", ReadOnlyModelViewSet, "r")]
        )
        risks = registry.resource_named("programme-risk")
        common = {"list": risks.list, "api": Api()}
        register(
            Resource(
                model=ProgrammeRisk,
                name="undeleted-risk",
                prefix="undeleted-risks",
                permissions=PermissionConfig(deletable=False),
                **common,
            ),
            Resource(model=Measurement, name="deleted-figure", prefix="deleted-figures", **common),
            Resource(
                model=RegionalDelivery,
                name="directors-record",
                prefix="directors-records",
                permissions=PermissionConfig(create=permissions.can_record_delivery),
                **common,
            ),
        )
        assert {"undeleted-risks", "deleted-figures"} <= set(writable()) and "directors-records" not in writable()
        assert "undeleted-risks" in archived_on_delete() and "deleted-figures" not in archived_on_delete()
        assert "undeleted-risks" in never_deleted() and "deleted-figures" not in never_deleted()
        assert {"undeleted-risks", "deleted-figures", "directors-records"} <= set(every_route())
        assert "readings" in read_only() and "readings" in every_route()
        assert not {"undeleted-risks", "deleted-figures", "directors-records"} & set(read_only())

    def test_the_tests_are_parametrised_by_the_lists_of_the_registry(self):
        served = {resource.prefix for resource in api_resources()}
        # Every resource of the API is tried by every rule, but the one whose records only a region's director
        # creates (tests TestRegionalDelivery): a new one with a rule of its own fails here until it is tested.
        assert served - set(WRITABLE) == {"regional-deliveries"}
        assert set(SERVED) == served
        assert served | set(READ_ONLY) <= set(ALL)
        for test, names in [
            (TestAnonymous.test_every_request_gets_401_and_writes_nothing, every_route()),
            (TestReading.test_every_role_reads_every_list_and_record_with_its_etag, every_route()),
            (TestWriting.test_staff_of_the_body_create_read_update_and_delete, writable()),
            (TestWritingRecordsThatExist.test_staff_of_the_other_body_change_only_records_of_no_body, writable()),
            (TestWritingRecordsThatExist.test_read_only_resources_answer_405_to_writes, read_only()),
        ]:
            (resources,) = [mark.args[1] for mark in test.pytestmark if mark.args[0] == "resource"]
            assert list(resources) == list(names), test.__name__

    def test_every_resource_has_a_record_and_every_writable_one_a_payload(self, world, records):
        assert set(ALL) - set(records) == set(), "make a record of it in records()"
        assert set(WRITABLE) - set(payloads(world)) == set(), "give what to create and change in payloads()"
