"""Trust, second pass: one gate decides who a request is, and each body speaks only for itself.

1. Who an API request is, is decided once by the API's own authentication classes, however the
   Authorization header is written; the partner allow-list asks that answer.
2. A change is allowed only if the person may change the record as it is and as it will be.
3. One body never records the other's decision; agreement comes after a closed consultation.
4. What a page cannot delete the API cannot delete; a figure's correction needs its reason everywhere.
"""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from accounts.middleware import ALWAYS_OPEN, PARTNER_REFUSAL
from accounts.models import ApiToken, Role
from asks.models import Expectation
from collaboration.models import Comment
from measures.models import ProgrammeMeasure
from nhs_joint.concurrency import version_of
from nhs_joint.registry import registry
from reports.models import ReportRun
from tests import factories as f
from tests.routes import fill, schema_operations, url_name

pytestmark = pytest.mark.django_db
API = "/api/v1"

# The keyword as people and libraries write it: Django REST framework takes any case and any white space.
SPELLINGS = ("token {}", "TOKEN {}", "Token\t{}", "tOkEn   {}")
# Headers that name nobody: an unknown scheme, a keyword without a token, a token in two parts.
GARBLED = ("Bearer {}", "Token", "Token {} extra", "Token{}", "Basic {}")


def api_with(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.fixture
def gate_world(nhse, nhsi):
    region = f.RegionFactory(ods_code="Y56", name="London")
    trust = f.OrganisationFactory(region=region, name="Riverside NHS Trust")
    programme = f.ProgrammeFactory(slug="winter", bodies=[nhse, nhsi])
    partner = f.UserFactory(role=Role.PARTNER, organisation=trust)
    staff = f.UserFactory(role=Role.STAFF, bodies=[nhse])
    staff_api = APIClient()
    staff_api.force_authenticate(staff)
    return {
        "trust": trust,
        "programme": programme,
        "partner": partner,
        "staff": staff,
        "operations": schema_operations(staff_api),
        "values": {"slug": programme.slug, "code": trust.ods_code, "id": programme.pk, "version": 1},
    }


def body_for(method, template, world):
    """A body that would be written if the request were let through (a comment, a report run)."""
    if method != "post":
        return {}
    if template == f"{API}/comments/":
        return {"record_type": "programme", "record_id": world["programme"].pk, "text": "A partner was here."}
    if template == f"{API}/report-runs/":
        return {"kind": "consistency"}
    return {}


class TestOneGate:
    def test_a_partners_token_however_written_opens_only_the_routes_open_to_partners(self, gate_world):
        token = f.token_for(gate_world["partner"])
        refused, opened = 0, 0
        for method, template in gate_world["operations"]:
            url = fill(template, gate_world["values"])
            name = url_name(url)
            if name == "api-token" and method == "delete":
                continue  # revoking the token that signs the request: tried last, below
            for spelling in SPELLINGS:
                client = api_with(spelling.format(token))
                response = getattr(client, method)(url, body_for(method, template, gate_world), format="json")
                body = response.json() if response["Content-Type"].startswith("application/json") else None
                detail = body.get("detail") if isinstance(body, dict) else None  # a list's body has no refusal
                if name in registry.partner_url_names or name in ALWAYS_OPEN:
                    assert detail != PARTNER_REFUSAL, (method, url, spelling)
                    opened += 1
                else:
                    assert (response.status_code, detail) == (403, PARTNER_REFUSAL), (
                        method,
                        url,
                        spelling,
                        response.status_code,
                        response.content[:200],
                    )
                    refused += 1
        assert refused > 300 and opened >= len(SPELLINGS) * 2
        # Nothing was written by the refused requests.
        assert not Comment.objects.exists()
        assert not ReportRun.objects.exists()
        # The spellings do sign the partner in: their own organisation's asks answer, the schema does not.
        for spelling in SPELLINGS:
            client = api_with(spelling.format(token))
            own = client.get(f"{API}/organisations/{gate_world['trust'].ods_code}/expectations/")
            assert own.status_code == 200, (spelling, own.content[:200])
            for page in ("/api/schema/", "/api/docs/"):
                response = client.get(page)
                assert response.status_code == 403 and PARTNER_REFUSAL in response.content.decode(), (page, spelling)
        # And a token so written revokes itself, as the partner's own account allows.
        for spelling in SPELLINGS:
            record, spare = ApiToken.issue(gate_world["partner"], name="Spare")
            assert api_with(spelling.format(spare)).delete(f"{API}/auth/token/").status_code == 204
            assert not ApiToken.objects.filter(pk=record.pk).exists()

    def test_staff_tokens_however_written_are_the_same_person(self, gate_world):
        token = f.token_for(gate_world["staff"])
        for spelling in SPELLINGS:
            response = api_with(spelling.format(token)).get(f"{API}/programmes/")
            assert response.status_code == 200, spelling

    def test_a_header_that_names_nobody_is_answered_as_no_header_on_every_route(self, gate_world):
        token = f.token_for(gate_world["partner"])
        for method, template in gate_world["operations"]:
            url = fill(template, gate_world["values"])
            if url_name(url) == "api-token":
                continue  # signing in: the one operation that reads no header (tests/test_api.py)
            anonymous = getattr(APIClient(), method)(url, {}, format="json")
            assert anonymous.status_code == 401, (method, url, anonymous.status_code)
            for garbled in GARBLED:
                response = getattr(api_with(garbled.format(token)), method)(url, {}, format="json")
                assert response.status_code == 401, (method, url, garbled, response.status_code)

    def test_a_partners_session_with_a_header_that_names_nobody_is_still_a_partner(self, client, gate_world):
        client.force_login(gate_world["partner"])
        response = client.get(f"{API}/people/", HTTP_AUTHORIZATION="Bearer nothing")
        assert response.status_code == 403 and response.json()["detail"] == PARTNER_REFUSAL
        response = client.get(f"{API}/people/", HTTP_AUTHORIZATION="token not-a-token")
        assert response.status_code == 401  # a token that is not valid is refused, not read past

    def test_the_partner_is_found_once(self, gate_world, django_assert_max_num_queries):
        """The gate and the view hear one answer: the token, person, roles and bodies in one query."""
        client = api_with("token " + f.token_for(gate_world["partner"]))
        url = f"{API}/organisations/{gate_world['trust'].ods_code}/expectations/"
        client.get(url)
        with django_assert_max_num_queries(8) as queries:
            assert client.get(url).status_code == 200
        assert sum('"accounts_apitoken"' in q["sql"] for q in queries.captured_queries) == 1


# 2 and 3. Whose it is now and whose it will be; one body never speaks for the other -------------------------


def client_for(user):
    return api_with(f"Token {f.token_for(user)}")


@pytest.fixture
def bodies_world(nhse, nhsi):
    joint = f.ProgrammeFactory(slug="maternity", title="Maternity", bodies=[nhse, nhsi], accountable_body=nhse)
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within four hours", unit="percent")
    nhse_staff = f.UserFactory(role=Role.STAFF, bodies=[nhse])
    nhsi_staff = f.UserFactory(role=Role.STAFF, bodies=[nhsi])
    return {
        "nhse": nhse,
        "nhsi": nhsi,
        "joint": joint,
        "measure": measure,
        "nhse_staff": nhse_staff,
        "nhsi_staff": nhsi_staff,
        "joint_staff": f.UserFactory(role=Role.STAFF, bodies=[nhse, nhsi]),
        "nhse_api": client_for(nhse_staff),
        "nhsi_api": client_for(nhsi_staff),
    }


def workstream_form(workstream, body):
    return {
        "programme": workstream.programme_id,
        "title": workstream.title,
        "description": workstream.description,
        "body": body.pk,
        "audiences": workstream.audiences,
        "start_date": workstream.start_date.isoformat(),
        "_version": version_of(workstream),
    }


class TestWhoseItIsNowAndWillBe:
    @pytest.fixture
    def nhsi_workstream(self, bodies_world):
        return f.WorkstreamFactory(programme=bodies_world["joint"], body=bodies_world["nhsi"], title="Maternity safety")

    def test_nhse_staff_cannot_take_nhsis_workstream_through_the_api(self, bodies_world, nhsi_workstream):
        url = f"{API}/workstreams/{nhsi_workstream.pk}/"
        for change in ({"body": "NHSE"}, {"body": "NHSE", "title": "Ours now"}):
            response = bodies_world["nhse_api"].patch(url, change, format="json")
            assert response.status_code == 403, response.content
            assert "Only staff of NHS Improvement can change this workstream" in response.json()["detail"]
        nhsi_workstream.refresh_from_db()
        assert nhsi_workstream.body == bodies_world["nhsi"] and nhsi_workstream.title == "Maternity safety"
        # NHS Improvement's own staff may give it to NHS England only if they work for it too.
        response = bodies_world["nhsi_api"].patch(url, {"body": "NHSE"}, format="json")
        assert response.status_code == 403 and "Only staff of NHS England" in response.json()["detail"]
        joint_api = client_for(bodies_world["joint_staff"])
        assert joint_api.patch(url, {"body": "NHSE"}, format="json").status_code == 200

    def test_nhse_staff_cannot_take_it_on_its_edit_page(self, client, bodies_world, nhsi_workstream):
        client.force_login(bodies_world["nhse_staff"])
        edit = f"/workstreams/{nhsi_workstream.pk}/edit/"
        assert client.get(edit).status_code == 403
        response = client.post(edit, workstream_form(nhsi_workstream, bodies_world["nhse"]))
        assert response.status_code == 403
        assert "Only staff of NHS Improvement can change this workstream" in response.content.decode()
        nhsi_workstream.refresh_from_db()
        assert nhsi_workstream.body == bodies_world["nhsi"]
        # Its own staff still edit it.
        client.force_login(bodies_world["nhsi_staff"])
        data = {**workstream_form(nhsi_workstream, bodies_world["nhsi"]), "title": "Maternity safety, renamed"}
        assert client.post(edit, data).status_code == 302
        nhsi_workstream.refresh_from_db()
        assert nhsi_workstream.title == "Maternity safety, renamed"


def expectation_body(issued_by):
    return {
        "programme": "maternity",
        "issued_by": issued_by,
        "audience": "providers",
        "region": None,
        "measure": "ae-4hr",
        "comparator": ">=",
        "target": 95,
        "start_date": "2019-04-01",
        "due_date": "2020-03-31",
        "wording": "Providers should see 95% within four hours.",
    }


class TestOneBodyNeverSpeaksForTheOther:
    def test_nhse_staff_cannot_issue_an_expectation_as_nhsi_through_the_api(self, bodies_world):
        response = bodies_world["nhse_api"].post(f"{API}/expectations/", expectation_body("NHSI"), format="json")
        assert response.status_code == 403, response.content
        assert "Only staff of NHS Improvement can give an expectation" in response.json()["detail"]
        assert not Expectation.objects.exists()
        assert (
            bodies_world["nhse_api"].post(f"{API}/expectations/", expectation_body("NHSE"), format="json").status_code
            == 201
        )
        # Nor move an expectation NHS England issued to NHS Improvement, nor take one of NHS Improvement's.
        mine = Expectation.objects.get()
        response = bodies_world["nhse_api"].patch(
            f"{API}/expectations/{mine.pk}/", {"issued_by": "NHSI"}, format="json"
        )
        assert response.status_code == 403
        theirs = f.ExpectationFactory(programme=bodies_world["joint"], issued_by=bodies_world["nhsi"])
        response = bodies_world["nhse_api"].patch(
            f"{API}/expectations/{theirs.pk}/", {"issued_by": "NHSE"}, format="json"
        )
        assert response.status_code == 403
        assert set(Expectation.objects.values_list("issued_by__code", flat=True)) == {"NHSE", "NHSI"}
        # Staff of both bodies may issue it for either.
        joint_api = client_for(bodies_world["joint_staff"])
        assert joint_api.post(f"{API}/expectations/", expectation_body("NHSI"), format="json").status_code == 201

    def test_nhse_staff_cannot_issue_an_expectation_as_nhsi_on_the_form(self, client, bodies_world):
        client.force_login(bodies_world["nhse_staff"])
        data = {
            **expectation_body(bodies_world["nhsi"].pk),
            "programme": bodies_world["joint"].pk,
            "measure": bodies_world["measure"].pk,
            "region": "",
        }
        response = client.post("/expectations/new/", data)
        assert response.status_code == 400
        assert "Only staff of NHS Improvement can give an expectation" in response.content.decode()
        assert not Expectation.objects.exists()
        assert client.post("/expectations/new/", {**data, "issued_by": bodies_world["nhse"].pk}).status_code == 302

    def test_a_measure_is_agreed_only_by_the_bodies_of_those_who_record_it_through_the_api(self, bodies_world):
        body = {"programme": "maternity", "measure": "ae-4hr", "target": 95, "agreed_on": "2019-06-01"}
        api = bodies_world["nhse_api"]
        response = api.post(f"{API}/programme-measures/", {**body, "agreed_by": ["NHSE", "NHSI"]}, format="json")
        assert response.status_code == 403, response.content
        assert "Only staff of NHS Improvement can record or withdraw" in response.json()["detail"]
        assert not ProgrammeMeasure.objects.exists()
        response = api.post(f"{API}/programme-measures/", {**body, "agreed_by": ["NHSE"]}, format="json")
        assert response.status_code == 201
        url = f"{API}/programme-measures/{response.json()['id']}/"
        assert api.patch(url, {"agreed_by": ["NHSE", "NHSI"]}, format="json").status_code == 403
        # NHS Improvement adds its own agreement; then neither changes the target under the other's.
        assert bodies_world["nhsi_api"].patch(url, {"agreed_by": ["NHSE", "NHSI"]}, format="json").status_code == 200
        response = api.patch(url, {"target": 90}, format="json")
        assert response.status_code == 403 and "NHS Improvement agreed this" in response.json()["detail"]
        assert api.patch(url, {"agreed_by": ["NHSE"]}, format="json").status_code == 403  # not NHSE's to withdraw
        measure = ProgrammeMeasure.objects.get()
        assert measure.target == 95 and set(measure.agreed_by.values_list("code", flat=True)) == {"NHSE", "NHSI"}

    def test_a_measure_is_agreed_only_by_the_bodies_of_those_who_record_it_on_the_form(self, client, bodies_world):
        client.force_login(bodies_world["nhse_staff"])
        data = {
            "programme": bodies_world["joint"].pk,
            "measure": bodies_world["measure"].pk,
            "target": "95",
            "agreed_on": "2019-06-01",
            "agreed_by": [bodies_world["nhse"].pk, bodies_world["nhsi"].pk],
        }
        response = client.post("/programme-measures/new/", data)
        assert response.status_code == 400
        assert "Only staff of NHS Improvement can record or withdraw" in response.content.decode()
        assert not ProgrammeMeasure.objects.exists()
        assert (
            client.post("/programme-measures/new/", {**data, "agreed_by": [bodies_world["nhse"].pk]}).status_code == 302
        )
        measure = ProgrammeMeasure.objects.get()
        edit = {**data, "_version": version_of(measure)}
        assert client.post(f"/programme-measures/{measure.pk}/edit/", edit).status_code == 400
        assert list(measure.agreed_by.values_list("code", flat=True)) == ["NHSE"]


# 4. The API honours the record's own rules ---------------------------------------------------------------------


class TestTheApiHonoursTheRecordsRules:
    @pytest.fixture
    def records(self, bodies_world):
        london = f.RegionFactory(ods_code="Y56", name="London")
        director = f.UserFactory(role=Role.REGIONAL_DIRECTOR, bodies=[bodies_world["nhse"], bodies_world["nhsi"]])
        director.region = london
        director.save()
        return {
            "figure": f.MeasurementFactory(measure=bodies_world["measure"], region=london, value=87),
            "delivery": f.RegionalDeliveryFactory(programme=bodies_world["joint"], region=london),
            "director_api": client_for(director),
            "staff_api": bodies_world["nhse_api"],
        }

    def test_what_a_page_never_deletes_the_api_does_not_delete(self, records):
        from measures.models import Measurement
        from programmes.models import RegionalDelivery

        for api, url, kept in (
            (records["staff_api"], f"{API}/measurements/{records['figure'].pk}/", "a wrong figure is corrected"),
            (records["director_api"], f"{API}/regional-deliveries/{records['delivery'].pk}/", "region's director"),
        ):
            response = api.delete(url)
            assert response.status_code == 405, (url, response.status_code)
            assert kept in response.json()["detail"] and "never deleted" in response.json()["detail"]
            assert api.get(url).status_code == 200  # still there, still read
        assert Measurement.objects.filter(pk=records["figure"].pk).exists()
        assert RegionalDelivery.objects.filter(pk=records["delivery"].pk).exists()
        # The schema documents no DELETE for them, as their pages offer none.
        schema_api = APIClient()
        schema_api.force_authenticate(f.UserFactory(role=Role.STAFF))
        operations = set(schema_operations(schema_api))
        assert ("delete", f"{API}/measurements/{{id}}/") not in operations
        assert ("delete", f"{API}/regional-deliveries/{{id}}/") not in operations
        assert ("delete", f"{API}/workstreams/{{id}}/") in operations

    def test_an_api_correction_of_a_figure_needs_its_reason(self, records):
        figure, api = records["figure"], records["staff_api"]
        url = f"{API}/measurements/{figure.pk}/"
        for body in ({"value": 88.1}, {"value": 88.1, "reason": "   "}):
            response = api.patch(url, body, format="json")
            assert response.status_code == 400, response.content
            assert response.json()["reason"] == ["Give the reason for the correction."]
        figure.refresh_from_db()
        assert figure.value == 87
        response = api.patch(url, {"value": 88.1, "reason": "Revised in the published statistics"}, format="json")
        assert response.status_code == 200, response.content
        assert "reason" not in response.json()
        figure.refresh_from_db()
        assert float(figure.value) == 88.1
        assert figure.history.latest().history_change_reason == "Revised in the published statistics"
        # Sending the figure as it is changes nothing and needs no reason.
        assert api.patch(url, {"value": 88.1}, format="json").status_code == 200


class TestAgreementIsEachBodysOwn:
    @pytest.fixture
    def closed(self, bodies_world):
        """A joint expectation whose consultation has closed, issued by NHS England."""
        return f.ExpectationFactory(
            programme=bodies_world["joint"],
            issued_by=bodies_world["nhse"],
            measure=bodies_world["measure"],
            stage="consultation",
            consultation_closes=dt.date(2019, 1, 31),
        )

    @pytest.fixture
    def draft(self, bodies_world):
        return f.ExpectationFactory(
            programme=bodies_world["joint"], issued_by=bodies_world["nhse"], measure=bodies_world["measure"]
        )

    @staticmethod
    def agreed_by(expectation):
        return sorted(expectation.agreed_by.values_list("code", flat=True))

    def test_on_the_page_each_body_agrees_for_itself_after_a_closed_consultation(self, client, bodies_world, closed):
        url = f"/expectations/{closed.pk}/agree/"
        client.force_login(bodies_world["nhse_staff"])
        response = client.post(url, {"summary": ""}, follow=True)
        assert "It is agreed once NHS Improvement agrees too." in response.content.decode()
        closed.refresh_from_db()
        assert closed.stage == "consultation" and self.agreed_by(closed) == ["NHSE"]
        response = client.post(url, {})
        assert (
            response.status_code == 400 and "NHS England agreed this expectation already" in response.content.decode()
        )
        page = client.get(f"/consultations/{closed.pk}/").content.decode()
        assert "Agree for" not in page  # nothing left for NHS England's staff to agree
        client.force_login(bodies_world["nhsi_staff"])
        assert "Agree for NHS Improvement" in client.get(f"/consultations/{closed.pk}/").content.decode()
        assert client.post(url, {}).status_code == 302
        closed.refresh_from_db()
        assert closed.stage == "agreed" and self.agreed_by(closed) == ["NHSE", "NHSI"]

    def test_on_the_page_a_draft_is_agreed_only_with_why_no_consultation_was_needed(self, client, bodies_world, draft):
        url = f"/expectations/{draft.pk}/agree/"
        client.force_login(bodies_world["joint_staff"])
        response = client.post(url, {"no_consultation_reason": "  "})
        assert response.status_code == 400
        page = response.content.decode()
        assert "say why no consultation is needed" in page and 'href="#no_consultation_reason"' in page
        draft.refresh_from_db()
        assert draft.stage == "draft" and self.agreed_by(draft) == []
        reason = "It corrects the wording of the agreed ask; nothing asked changes."
        assert client.post(url, {"no_consultation_reason": reason}).status_code == 302
        draft.refresh_from_db()
        assert draft.stage == "agreed" and self.agreed_by(draft) == ["NHSE", "NHSI"]
        assert draft.no_consultation_reason == reason
        assert reason in client.get(f"/consultations/{draft.pk}/").content.decode()

    def test_through_the_api_each_body_agrees_for_itself_after_a_closed_consultation(self, bodies_world, closed):
        url = f"{API}/expectations/{closed.pk}/agree/"
        response = bodies_world["nhse_api"].post(url, {}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["stage"] == "consultation" and response.json()["agreed_by"] == ["NHSE"]
        again = bodies_world["nhse_api"].post(url, {}, format="json")
        assert again.status_code == 400 and "agreed this expectation already" in again.json()["non_field_errors"][0]
        outsider = client_for(f.UserFactory(role=Role.ADMINISTRATOR, bodies=[bodies_world["nhsi"]]))
        assert outsider.post(url, {}, format="json").status_code == 403
        response = bodies_world["nhsi_api"].post(url, {}, format="json")
        assert response.status_code == 200
        assert response.json()["stage"] == "agreed" and sorted(response.json()["agreed_by"]) == ["NHSE", "NHSI"]
        # Agreement is not written through the record: the fields are read only.
        other = f.ExpectationFactory(programme=bodies_world["joint"], issued_by=bodies_world["nhse"])
        bodies_world["nhse_api"].patch(
            f"{API}/expectations/{other.pk}/", {"agreed_by": ["NHSE", "NHSI"], "stage": "agreed"}, format="json"
        )
        other.refresh_from_db()
        assert other.stage == "draft" and self.agreed_by(other) == []

    def test_through_the_api_a_draft_or_an_open_consultation_is_not_agreed(self, bodies_world, draft):
        joint = client_for(bodies_world["joint_staff"])
        response = joint.post(f"{API}/expectations/{draft.pk}/agree/", {}, format="json")
        assert response.status_code == 400
        assert "say why no consultation is needed" in response.json()["no_consultation_reason"][0]
        draft.refresh_from_db()
        assert draft.stage == "draft" and self.agreed_by(draft) == []
        still_open = f.ExpectationFactory(
            programme=bodies_world["joint"],
            issued_by=bodies_world["nhse"],
            stage="consultation",
            consultation_closes=dt.date(2100, 1, 1),
        )
        response = joint.post(f"{API}/expectations/{still_open.pk}/agree/", {}, format="json")
        assert response.status_code == 400 and "agree it after it closes" in response.json()["non_field_errors"][0]
        reason = {"no_consultation_reason": "A correction of the wording only."}
        response = joint.post(f"{API}/expectations/{draft.pk}/agree/", reason, format="json")
        assert response.status_code == 200 and response.json()["stage"] == "agreed"
        assert response.json()["no_consultation_reason"] == "A correction of the wording only."

    def test_an_expectation_is_not_changed_under_the_other_bodys_agreement(self, client, bodies_world, closed):
        assert (
            bodies_world["nhsi_api"].post(f"{API}/expectations/{closed.pk}/agree/", {}, format="json").status_code
            == 200
        )
        response = bodies_world["nhse_api"].patch(f"{API}/expectations/{closed.pk}/", {"target": 90}, format="json")
        assert response.status_code == 403
        assert "NHS Improvement agreed this expectation as it stands" in response.json()["detail"]
        closed.refresh_from_db()
        assert closed.target == 95 and closed.stage == "consultation"

    def test_the_issuing_bodys_steps_are_taken_only_by_its_staff(self, client, bodies_world, draft, closed):
        closes = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        client.force_login(bodies_world["nhsi_staff"])
        consult = client.post(f"/expectations/{draft.pk}/consult/", {"closes": closes})
        assert consult.status_code == 403 and "Only staff of NHS England" in consult.content.decode()
        assert client.post(f"/expectations/{closed.pk}/withdraw/").status_code == 403
        assert "Withdraw this expectation" not in client.get(f"/consultations/{closed.pk}/").content.decode()
        assert "Open the consultation" not in client.get(f"/expectations/{draft.pk}/").content.decode()
        draft.refresh_from_db()
        closed.refresh_from_db()
        assert draft.stage == "draft" and closed.stage == "consultation"
        client.force_login(bodies_world["nhse_staff"])
        assert "Open the consultation" in client.get(f"/expectations/{draft.pk}/").content.decode()
        assert client.post(f"/expectations/{draft.pk}/consult/", {"closes": closes}).status_code == 302
        assert client.post(f"/expectations/{closed.pk}/withdraw/").status_code == 302
