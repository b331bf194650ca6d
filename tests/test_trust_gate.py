"""Trust, second pass: one gate decides who a request is, and each body speaks only for itself.

1. Who an API request is, is decided once by the API's own authentication classes, however the
   Authorization header is written; the partner allow-list asks that answer.
2. A change is allowed only if the person may change the record as it is and as it will be.
3. One body never records the other's decision; agreement comes after a closed consultation.
4. What a page cannot delete the API cannot delete; a figure's correction needs its reason everywhere.
"""


import pytest
from rest_framework.test import APIClient

from accounts.middleware import ALWAYS_OPEN, PARTNER_REFUSAL
from accounts.models import ApiToken, Role
from collaboration.models import Comment
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
                detail = (
                    response.json().get("detail") if response["Content-Type"].startswith("application/json") else None
                )
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
