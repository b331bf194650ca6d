"""schemathesis fuzzes every operation of the live OpenAPI schema as an Administrator who is also Staff.

It must find no server error, no response (status, content type, headers, body) that the schema does not
document, no schema-violating input accepted, and no operation that ignores authentication.
"""

import datetime as dt
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.models import Role
from appointments.models import Appointment
from reports import tasks
from tests import factories as f
from tests.factories import token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ST = Path(sys.executable).parent / "st"

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
]
# Not positive_data_acceptance: a schema cannot say which natural keys exist, nor which dates a
# programme's rules allow, so schema-valid input is rightly refused with a 400 naming the field.


def a_world():
    """A few rows of every resource, so that generated requests reach real records, not only 404s."""
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement", ods_code="X25")
    duty = f.StatutoryDutyFactory(body=nhse, slug="nhse-mandate")
    f.StatutoryDutyFactory(body=nhsi, slug="nhsi-licence")
    london = f.RegionFactory(ods_code="Y56", name="London")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands")
    f.RegionFactory(ods_code="Y54", name="North of England", active=False)
    system = f.LocalHealthSystemFactory(ods_code="QMF", region=london)
    f.OrganisationFactory(ods_code="RJ1", region=london, local_system=system)
    f.OrganisationFactory(ods_code="RRK", region=midlands)
    programme = f.ProgrammeFactory(
        slug="winter",
        title="Winter",
        bodies=[nhse, nhsi],
        accountable_body=nhse,
        duty=duty,
        start_date=dt.date(2018, 4, 1),
    )
    f.BoardApprovalFactory(programme=programme, body=nhse)
    f.BoardApprovalFactory(programme=programme, body=nhsi)
    director = f.PersonFactory(email="rd@example.nhs.uk")
    appointment = f.AppointmentFactory(
        person=director,
        title="Regional Director",
        role=Appointment.Role.REGIONAL_DIRECTOR,
        region=london,
    )
    f.AppointmentShareFactory(appointment=appointment, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=appointment, body=nhsi, fte_percent=50)
    f.RegionalDeliveryFactory(programme=programme, region=london, lead=director)
    f.WorkstreamFactory(programme=programme, body=nhse, regions=[london, midlands])
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours")
    f.MeasureFactory(code="rtt-18wk", name="Referral to treatment")
    f.ExpectationFactory(programme=programme, issued_by=nhse, measure=measure, region=london)
    f.ProgrammeMeasureFactory(programme=programme, measure=measure)
    for month in range(1, 13):
        f.MeasurementFactory(measure=measure, region=london, month=dt.date(2018, month, 1), value=85 + month % 5)
    finding = f.FindingFactory(region=london)
    f.FindingFactory(run=finding.run, rule="appointment-shares", severity="medium")
    # An Administrator who is also Staff of both bodies and London's Regional director: writes are tried, not only refused.
    user = f.UserFactory(username="fuzz.admin", role=Role.ADMINISTRATOR, bodies=[nhse, nhsi], region=london)
    user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in (Role.STAFF, Role.REGIONAL_DIRECTOR)))
    return user


# The run is shared out as several pytest items, each its own xdist group, so that under `--dist loadgroup` both
# workers take part instead of one long item holding one worker. The examples and coverage phases try each
# operation on its own (every documented edge, every type and method it does not take), so the operations are
# split between three items of about the same cost: two name their resources, the third takes every other
# operation, so that a new resource is never left out. The fuzzing and stateful phases run over every operation in
# one item, so that every link between operations the schema implies can be walked.
PEOPLE_AND_PROGRAMMES = r"^/api/v1/(appointments|programmes|expectations|auth)/"
MEASURES_AND_PLANS = r"^/api/v1/(measures|measurements|workstreams|programme-risks)/"
EACH_OPERATION = ["--phases", "examples,coverage"]
RUNS = {
    "coverage-people-and-programmes": [*EACH_OPERATION, "--include-path-regex", PEOPLE_AND_PROGRAMMES],
    "coverage-measures-and-plans": [*EACH_OPERATION, "--include-path-regex", MEASURES_AND_PLANS],
    "coverage-every-other-resource": [
        *EACH_OPERATION,
        "--exclude-path-regex",
        f"{PEOPLE_AND_PROGRAMMES}|{MEASURES_AND_PLANS}",
    ],
    "fuzzing-and-stateful": ["--phases", "fuzzing,stateful"],
}
# What every item shares: the same cases every run (no random seed, no example database), so that what passes in
# CI passes again; FUZZING_EXAMPLES generated cases per operation, after the coverage phase has given every operation
# valid and invalid input at each documented edge; eight stateful scenarios, each following the links from one
# operation's response to the next.
FUZZING_EXAMPLES = 4
SETTINGS = f"""
[generation]
deterministic = true

[phases.fuzzing.generation]
max-examples = {FUZZING_EXAMPLES}

[phases.stateful.generation]
max-examples = 8
"""


@pytest.mark.parametrize(
    "run",
    [pytest.param(run, id=run, marks=pytest.mark.xdist_group(f"api-schema-{run}")) for run in RUNS],
)
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(
    live_server, monkeypatch, tmp_path, settings, run
):
    # Requested report runs stay queued: nothing is sent to the broker from here.
    monkeypatch.setattr(tasks.run_report, "apply_async", lambda *args, **kwargs: None)
    # The test server writes a response in several small packets: without TCP_NODELAY each kept-alive
    # request waits ~40 ms for a delayed ACK (accepted sockets inherit the option from the listening one).
    live_server.thread.httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    token = token_for(a_world())
    # The fuzzing token is not revoked when schemathesis tries DELETE /api/v1/auth/token/, so that every
    # operation after it is still tried signed in (revocation itself: tests/test_sign_in_security.py);
    # and writes are not throttled, so that each generated write reaches the portal's validation.
    from accounts.models import ApiToken

    monkeypatch.setattr(ApiToken, "delete", lambda self, *args, **kwargs: (0, {}))
    monkeypatch.setattr(settings, "API_WRITE_RATE", "")
    config = tmp_path / "schemathesis.toml"
    config.write_text(SETTINGS)
    result = subprocess.run(
        [
            str(ST),
            "--no-color",
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            ",".join(CHECKS),
            *RUNS[run],
            "--workers",
            "1",
            "--request-timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
    )
    output = result.stdout[-15000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    summary = result.stdout.split("SUMMARY")[-1]
    selected, tested = re.search(r"Selected: (\d+)/(\d+)", summary), re.search(r"Tested: (\d+)", summary)
    assert selected and tested, output
    assert int(tested[1]) == int(selected[1]) > 0, output  # every operation the item selects, none left out
    if run == "fuzzing-and-stateful":
        assert int(selected[1]) == int(selected[2]), output  # fuzzed and walked: every operation of the API
