"""Who may do what, as a matrix: every API operation and every page of every kind of record, for every role
and both bodies, reading, writing and deleting.

The expectations are the rules of docs/architecture.md, "Users and what they do", written here as a table (``may_change``)
rather than asked of nhs_joint.permissions, so that the code is checked against the rules and not against
itself. The operations are found, not listed: the API's from its OpenAPI schema, the pages from the page
resources in the registry, so a resource added later is walked too. The records are made once for the module
(every test only reads them, or writes inside a transaction that is rolled back).
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts.middleware import ALWAYS_OPEN, PARTNER_REFUSAL
from accounts.models import Role
from nhs_joint.registry import registry
from tests import factories as f
from tests.conftest import create_roles
from tests.routes import fill, schema_operations, url_name

# One xdist group: the records made once for the module (`matrix`) are made on one pytest worker, not on each.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("render_every_time"),
    pytest.mark.xdist_group("permission-matrix"),
]
API = "/api/v1"

# Each role, and the bodies its account works for.
ROLES = {
    "nhse_staff": {"NHSE"},
    "nhsi_staff": {"NHSI"},
    "director": {"NHSE", "NHSI"},  # the joint Regional director of London
    "admin": {"NHSE"},
}
SIGNED_IN = tuple(ROLES)
NEVER_DELETED = {"regional-delivery", "measurement"}  # their resources' deletable=False


def may_change(role, resource, owner):
    """The rules: Staff and Regional directors change the records of the bodies they work for (records of no
    body, any of them); only a region's director its delivery records; Administrators manage users, not
    records; partners and people signed out change nothing."""
    if role not in ("nhse_staff", "nhsi_staff", "director"):
        return False
    if resource == "regional-delivery":
        return role == "director"
    return owner is None or owner in ROLES[role]


def may_create(role, resource):
    if role not in ("nhse_staff", "nhsi_staff", "director"):
        return False
    return resource != "regional-delivery" or role == "director"


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    """Records of each body, made once; rolled back when the module is done."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield make_records()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def make_records():
    create_roles()
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    bodies = {"NHSE": nhse, "NHSI": nhsi}
    london = f.RegionFactory(ods_code="Y56", name="London")
    f.RegionFactory(ods_code="Y60", name="Midlands")
    system = f.LocalHealthSystemFactory(region=london)
    trust = f.OrganisationFactory(region=london, local_system=system, name="Riverside NHS Trust")
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within four hours", unit="percent")
    owned = {}  # resource name -> {owner code or None: record}
    for code, body in bodies.items():
        programme = f.ProgrammeFactory(
            slug=f"programme-{code.lower()}", title=f"{body.name}'s programme", bodies=[body], accountable_body=body
        )
        appointment = f.AppointmentFactory(title=f"Director for {body.name}")
        f.AppointmentShareFactory(appointment=appointment, body=body, fte_percent=100)
        programme_measure = f.ProgrammeMeasureFactory(programme=programme, measure=measure)
        programme_measure.agreed_by.set([body])
        records = {
            "programme": programme,
            "workstream": f.WorkstreamFactory(programme=programme, body=body, title=f"{body.name}'s work"),
            "expectation": f.ExpectationFactory(programme=programme, issued_by=body, measure=measure),
            "board-approval": f.BoardApprovalFactory(programme=programme, body=body),
            "programme-measure": programme_measure,
            "programme-risk": f.ProgrammeRiskFactory(programme=programme),
            "appointment": appointment,
        }
        for name, record in records.items():
            owned.setdefault(name, {})[code] = record
    # A joint programme, whose records each speak for one body: who may hand them to the other body.
    joint = f.ProgrammeFactory(
        slug="programme-joint", title="Joint programme", bodies=[nhse, nhsi], accountable_body=nhse
    )
    speaking = {}
    for code, body in bodies.items():
        joint_measure = f.ProgrammeMeasureFactory(programme=joint, measure=f.MeasureFactory(code=f"joint-{code}"))
        joint_measure.agreed_by.set([body])
        speaking[code] = {
            "workstream": f.WorkstreamFactory(programme=joint, body=body, title=f"Joint work of {body.name}"),
            "expectation": f.ExpectationFactory(programme=joint, issued_by=body, measure=measure),
            "board-approval": f.BoardApprovalFactory(programme=joint, body=body),
            "programme-measure": joint_measure,
        }
    owned["measure"] = {None: f.MeasureFactory(code="rtt-18wk", name="Referral to treatment")}
    owned["measurement"] = {None: f.MeasurementFactory(measure=measure, region=london)}
    owned["person"] = {None: f.PersonFactory(name="Pat Nopost")}
    owned["regional-delivery"] = {None: f.RegionalDeliveryFactory(programme=owned["programme"]["NHSE"], region=london)}
    users = {
        "nhse_staff": f.UserFactory(role=Role.STAFF, bodies=[nhse]),
        "nhsi_staff": f.UserFactory(role=Role.STAFF, bodies=[nhsi]),
        "director": f.UserFactory(role=Role.REGIONAL_DIRECTOR, bodies=[nhse, nhsi], region=london),
        "admin": f.UserFactory(role=Role.ADMINISTRATOR, bodies=[nhse]),
        "partner": f.UserFactory(role=Role.PARTNER, organisation=trust),
    }
    report = f.ReportRunFactory()
    finding = f.FindingFactory(run=report)
    schema_reader = APIClient()
    schema_reader.force_authenticate(users["nhse_staff"])
    return {
        "owned": owned,
        "speaking": speaking,
        "bodies": bodies,
        "users": users,
        "tokens": {role: f.token_for(user) for role, user in users.items()},
        "operations": schema_operations(schema_reader),
        "values": {
            "slug": "programme-nhse",
            "code": trust.ods_code,
            "id": owned["workstream"]["NHSE"].pk,
            "version": 1,
        },
        "keys": {
            "regions": london.ods_code,
            "bodies": "NHSE",
            "local-systems": system.ods_code,
            "organisations": trust.ods_code,
            "report-runs": report.pk,
            "findings": finding.pk,
            "measures": measure.code,
        },
    }


def api_client(matrix, role):
    client = APIClient()
    if role != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {matrix['tokens'][role]}")
    return client


def page_client(matrix, role):
    client = Client()
    if role != "anonymous":
        client.force_login(matrix["users"][role])
    return client


def rolled_back(client, method, url, data=None):
    """A request whose writes are undone afterwards, so that the next role meets the same records."""
    with transaction.atomic():
        if data is None:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, data, format="json")
        transaction.set_rollback(True)
    return response


def key_of(resource, record):
    return getattr(record, resource.lookup)


def api_resources():
    """(page resource, API prefix) for every kind of record served by the API too."""
    return [(resource, resource.prefix) for resource in registry.declared_resources() if resource.api is not None]


def filled(matrix, template):
    """A schema path with its parameters: the record of its own resource where the path names one."""
    prefix = template.removeprefix(f"{API}/").split("/")[0]
    values = dict(matrix["values"])
    if prefix in matrix["keys"]:
        key = matrix["keys"][prefix]
        values.update(id=key, code=key)
    for resource, api_prefix in api_resources():
        if api_prefix == prefix:
            record = next(iter(matrix["owned"][resource.name].values()))
            values.update(id=record.pk, slug=key_of(resource, record), code=key_of(resource, record))
    return fill(template, values)


class TestApiMatrix:
    def test_signed_out_and_partners_reach_only_what_is_open_to_them_on_every_operation(self, matrix):
        walked = 0
        for method, template in matrix["operations"]:
            url = filled(matrix, template)
            name = url_name(url)
            if name in ALWAYS_OPEN:
                continue  # signing in and revoking one's own token (tests/test_trust_gate.py)
            anonymous = rolled_back(api_client(matrix, "anonymous"), method, url, {})
            assert anonymous.status_code == 401, (method, url, anonymous.status_code)
            partner = rolled_back(api_client(matrix, "partner"), method, url, {})
            if name in registry.partner_url_names:
                assert partner.status_code != 403 or partner.json()["detail"] != PARTNER_REFUSAL, (method, url)
            else:
                assert (partner.status_code, partner.json().get("detail")) == (403, PARTNER_REFUSAL), (method, url)
            walked += 1
        assert walked > 120

    @pytest.mark.parametrize("role", SIGNED_IN)
    def test_every_role_reads_every_operation_that_reads(self, matrix, role):
        client = api_client(matrix, role)
        for method, template in matrix["operations"]:
            if method != "get":
                continue
            url = filled(matrix, template)
            response = client.get(url)
            prefix = template.removeprefix(f"{API}/").split("/")[0]
            if prefix in {p for _, p in api_resources()} | set(matrix["keys"]):
                # A kind of record: its list, one record, its history, its chart: every signed-in role reads it.
                assert response.status_code == 200, (role, url, response.status_code, response.content[:200])
            else:
                # A person's own things (notifications, comments, papers, views): theirs or not found.
                assert response.status_code in (200, 400, 404), (role, url, response.status_code)

    @pytest.mark.parametrize("role", SIGNED_IN)
    def test_every_role_writes_and_deletes_only_what_the_rules_allow(self, matrix, role):
        client = api_client(matrix, role)
        checked = 0
        for resource, prefix in api_resources():
            created = rolled_back(client, "post", f"{API}/{prefix}/", {})
            expected = 400 if may_create(role, resource.name) else 403
            assert created.status_code == expected, (role, resource.name, "create", created.status_code)
            for owner, record in matrix["owned"][resource.name].items():
                url = f"{API}/{prefix}/{key_of(resource, record)}/"
                allowed = may_change(role, resource.name, owner)
                what = (role, resource.name, owner)
                changed = rolled_back(client, "patch", url, {})
                assert changed.status_code == (200 if allowed else 403), (*what, "patch", changed.content[:200])
                deleted = rolled_back(client, "delete", url)
                if resource.name in NEVER_DELETED:
                    assert deleted.status_code == 405 and "never deleted" in deleted.json()["detail"], what
                else:
                    assert deleted.status_code == (204 if allowed else 403), (*what, "delete", deleted.content[:200])
                checked += 1
        assert checked == sum(len(records) for records in matrix["owned"].values())


# The field of each record that says which body it speaks for, and the change that hands it to the other body.
SPEAKING_FIELDS = {"workstream": "body", "expectation": "issued_by", "board-approval": "body"}


def may_hand_over(role, before, after):
    """A record that speaks for a body (its owner, its issuing body, its Board) is changed only by staff of that
    body, as it is and as it will be."""
    return role in ("nhse_staff", "nhsi_staff", "director") and {*before, *after} <= ROLES[role]


def may_agree(role, before, after):
    """A body's agreement is added or withdrawn only by its own staff."""
    return role in ("nhse_staff", "nhsi_staff", "director") and before ^ after <= ROLES[role]


def form_data(resource, record, user, **changes):
    """What the record's edit page would post back: its form's values, with ``changes`` made."""
    from django.forms.models import model_to_dict

    from nhs_joint.concurrency import version_of

    form = resource.form.form_class(instance=record, user=user)
    data = {}
    for name, value in model_to_dict(record, fields=list(form.fields)).items():
        if isinstance(value, list):
            value = [getattr(item, "pk", item) for item in value]
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        data[name] = "" if value is None else value
    return {**data, **changes, "_version": version_of(record)}


class TestHandingOverMatrix:
    @pytest.mark.parametrize("role", SIGNED_IN)
    def test_who_may_hand_a_record_to_the_other_body_through_the_api_and_its_page(self, matrix, role):
        api, page = api_client(matrix, role), page_client(matrix, role)
        user, bodies = matrix["users"][role], matrix["bodies"]
        checked = 0
        for owner, records in matrix["speaking"].items():
            other = "NHSI" if owner == "NHSE" else "NHSE"
            for name, record in records.items():
                resource = registry.resource_named(name)
                if name == "programme-measure":  # adding the other body's agreement to this body's
                    before, after = {owner}, {owner, other}
                    api_change = {"agreed_by": sorted(after)}
                    page_change = {"agreed_by": [bodies[code].pk for code in sorted(after)]}
                else:
                    field = SPEAKING_FIELDS[name]
                    before, after = {owner}, {other}
                    api_change, page_change = {field: other}, {field: bodies[other].pk}
                rule = may_agree if name == "programme-measure" else may_hand_over
                allowed = rule(role, before, after)
                url = f"{API}/{resource.prefix}/{record.pk}/"
                response = rolled_back(api, "patch", url, api_change)
                what = (role, name, owner, response.status_code, response.content[:200])
                assert response.status_code == (200 if allowed else 403), what
                edit = reverse(f"{name}-edit", args=[record.pk])
                with transaction.atomic():
                    response = page.post(edit, form_data(resource, record, user, **page_change))
                    transaction.set_rollback(True)
                # Refused before the form (403) or by it, naming why (400); saved, back to the record (302).
                what = (role, name, owner, "page", response.status_code)
                if allowed:
                    assert response.status_code == 302, what
                elif response.status_code == 400:
                    assert "Only staff of" in response.content.decode(), what
                else:
                    assert response.status_code == 403, what
                checked += 1
        assert checked == 8


def record_pages(resource, record):
    key = key_of(resource, record)
    pages = {"detail": resource.detail_url(key)}
    for suffix in ("history", "edit"):
        try:
            pages[suffix] = reverse(f"{resource.name}-{suffix}", args=[key])
        except NoReverseMatch:
            pass
    return pages


def page_write(resource, record):
    """The page that archives the record (records people archive) or deletes it, if it has one."""
    suffix = "archive" if resource.archivable else "delete"
    try:
        return reverse(f"{resource.name}-{suffix}", args=[key_of(resource, record)])
    except NoReverseMatch:
        return None


class TestPageMatrix:
    @pytest.mark.parametrize("role", ("anonymous", "partner", *SIGNED_IN))
    def test_every_page_of_every_record_as_each_role(self, matrix, role):
        client = page_client(matrix, role)
        walked = 0
        for resource in registry.declared_resources():
            owned = matrix["owned"].get(resource.name) or {None: resource.list.queryset().order_by("pk").first()}
            for owner, record in owned.items():
                if record is None:
                    continue
                allowed = may_change(role, resource.name, owner)
                pages = {"list": resource.list_url(), **record_pages(resource, record)}
                if resource.form is not None and resource.form.creatable:
                    pages["create"] = reverse(f"{resource.name}-create")
                for kind, url in pages.items():
                    response = client.get(url)
                    what = (role, resource.name, owner, kind, url, response.status_code)
                    if role == "anonymous":
                        assert response.status_code == 302 and "/accounts/login/" in response["Location"], what
                    elif role == "partner":
                        assert response.status_code == 403, what
                    elif resource.permissions.view is not None:  # the users' pages: Administrators only
                        assert response.status_code == (200 if role == "admin" else 403), what
                    elif kind == "edit":
                        assert response.status_code == (200 if allowed else 403), what
                    elif kind == "create":
                        assert response.status_code == (200 if may_create(role, resource.name) else 403), what
                    else:
                        assert response.status_code == 200, what
                    walked += 1
                write = page_write(resource, record) if resource.permissions.view is None else None
                if write is not None:
                    response = rolled_back(client, "post", write)
                    what = (role, resource.name, owner, write, response.status_code)
                    if role == "anonymous":
                        assert response.status_code == 302 and "/accounts/login/" in response["Location"], what
                    else:
                        assert response.status_code == (302 if allowed else 403), what
        assert walked > 60

    def test_the_matrix_has_records_of_both_bodies(self, matrix):
        owners = {owner for records in matrix["owned"].values() for owner in records}
        assert owners == {"NHSE", "NHSI", None}
        names = {resource.name for resource, _ in api_resources()}
        assert names <= set(matrix["owned"]), names - set(matrix["owned"])  # a new kind of record is added here
