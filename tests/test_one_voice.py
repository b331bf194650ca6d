"""One voice to each organisation (issue 18): what is asked of a trust, CCG or local system; consultations on
expectations; partners who see only their own organisation's asks and consultations."""

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import Role, User
from asks import services as asks
from asks.models import Expectation, ExpectationResponse, MeasureAgreement
from organisations.models import NationalBody, Organisation
from organisations.services import import_ods
from reports import services as report_services
from reports.models import ReportRun
from reports.rules import Context, all_rules
from tests import factories as f
from tests.conftest import shared_test_data

pytestmark = pytest.mark.django_db
ETR = Path(settings.BASE_DIR) / "data" / "ods" / "etr.csv"
ECCG = Path(settings.BASE_DIR) / "data" / "ods" / "eccg.csv"


def expectation_ids(html):
    return {int(pk) for pk in re.findall(r'data-expectation="(\d+)"', html)}


def row_of(html, pk):
    match = re.search(rf'<tr[^>]*data-expectation="{pk}".*?</tr>', html, re.S)
    assert match, pk
    return match.group(0)


def partner_for(target, username=None):
    kwargs = {"organisation": target} if isinstance(target, Organisation) else {"local_system": target}
    return f.UserFactory(role=Role.PARTNER, username=username or f"partner-{target.ods_code}", **kwargs)


def run_consistency():
    run = ReportRun.objects.create(kind="consistency")
    report_services.execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def expected_for(target, year, stages):
    """What applies to ``target``, worked out from the records one by one (not by the portal's query)."""
    audience = {"nhs_trust": "providers", "foundation_trust": "providers", "ccg": "commissioners"}[target.kind]
    first, last = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
    return {
        e.pk
        for e in Expectation.all_objects.all()
        if e.archived_at is None
        and e.stage in stages
        and e.audience == audience
        and (e.region_id is None or e.region_id == target.region_id)
        and e.start_date <= last
        and e.due_date >= first
    }


def seed():
    call_command("load_reference", stdout=io.StringIO())
    import_ods(ETR, "trusts")
    import_ods(ECCG, "ccgs")
    call_command("seed_demo", stdout=io.StringIO())
    run_consistency()
    trust = Organisation.objects.filter(kind__in=["nhs_trust", "foundation_trust"], region__isnull=False).first()
    ccg = Organisation.objects.filter(kind="ccg", region__isnull=False).first()
    return {"trust": trust.pk, "ccg": ccg.pk}


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """The reference data, both ODS files, the demonstration and a consistency run: made once for a class whose
    tests only read them (each test's own writes are rolled back after it)."""
    yield from shared_test_data(django_db_blocker, seed)


@pytest.fixture
def seeded(db, seeded_once):
    return {
        "trust": Organisation.objects.get(pk=seeded_once["trust"]),
        "ccg": Organisation.objects.get(pk=seeded_once["ccg"]),
        "staff": User.objects.get(username="staff.demo"),
    }


# One worker runs the class (pytest-xdist), so that the demonstration its tests read is built once, not once on
# each worker.
@pytest.mark.xdist_group("one-voice-what-is-asked")
class TestWhatIsAsked:
    def test_a_trusts_page_lists_exactly_what_applies_to_it_with_the_ae_conflict_flagged(self, client, seeded):
        trust, staff = seeded["trust"], seeded["staff"]
        # A regional ask elsewhere, a commissioners' ask and a withdrawn one must all stay off the trust's page.
        other_region = f.RegionFactory()
        measure = Expectation.objects.filter(measure__code="ae-4hr").first().measure
        programme = Expectation.objects.filter(measure__code="ae-4hr").first().programme
        body = programme.bodies.first()
        common = {
            "programme": programme,
            "issued_by": body,
            "measure": measure,
            "stage": "agreed",
            "due_date": dt.date(2100, 3, 31),
        }
        elsewhere = f.ExpectationFactory(region=other_region, target=80, **common)
        here = f.ExpectationFactory(region=trust.region, target=95, **common)
        commissioners = f.ExpectationFactory(audience="commissioners", target=95, **common)
        withdrawn = f.ExpectationFactory(target=95, **{**common, "stage": "withdrawn"})
        old = f.ExpectationFactory(
            target=95, start_date=dt.date(2010, 4, 1), **{**common, "due_date": dt.date(2011, 3, 31)}
        )
        year = asks.financial_year_of(dt.date.today())

        client.force_login(staff)
        response = client.get(f"/organisations/{trust.ods_code}/asks/")
        assert response.status_code == 200
        html = response.content.decode()
        shown = expectation_ids(html)
        expected = expected_for(trust, year, {"draft", "consultation", "agreed"})
        assert shown == expected and here.pk in shown
        assert not {elsewhere.pk, commissioners.pk, withdrawn.pk, old.pk} & shown
        assert len(expected) >= 5  # the seed's provider asks, nationally

        # The planted A&E conflict (95% by urgent and emergency care, 90% by the oversight framework) is flagged.
        ae = Expectation.objects.filter(pk__in=expected, measure__code="ae-4hr", region__isnull=True)
        assert {e.target for e in ae} >= {95, 90}
        for expectation in ae:
            assert 'data-rule="expectation-conflict"' in row_of(html, expectation.pk)
        unflagged = Expectation.objects.get(measure__code="cancer-2ww", audience="providers", region__isnull=True)
        assert "Open finding" not in row_of(html, unflagged.pk)
        assert f"What is asked of {trust.name} in {asks.year_label(year)}" in html

        # The same list as CSV and in the API.
        response = client.get(f"/organisations/{trust.ods_code}/asks/?export=csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
        assert rows[0][0] == "Measure" and len(rows) - 1 == len(expected)
        findings = rows[0].index("Open consistency findings")
        assert sum("two voices" in row[findings] for row in rows[1:]) >= 2
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
        data = api.get(f"/api/v1/organisations/{trust.ods_code}/expectations/").json()
        assert {row["id"] for row in data["results"]} == expected
        assert data["year"] == asks.year_label(year)
        flagged = {row["id"] for row in data["results"] if row["open_findings"]}
        assert {e.pk for e in ae} <= flagged

        # A past year shows what was asked then (the 2010/11 ask), and nothing current.
        response = client.get(f"/organisations/{trust.ods_code}/asks/?year=2010")
        assert expectation_ids(response.content.decode()) == expected_for(
            trust, 2010, {"draft", "consultation", "agreed"}
        )
        assert old.pk in expectation_ids(response.content.decode())

    def test_a_ccg_is_asked_what_commissioners_are_asked(self, client, seeded):
        ccg, staff = seeded["ccg"], seeded["staff"]
        year = asks.financial_year_of(dt.date.today())
        client.force_login(staff)
        html = client.get(f"/organisations/{ccg.ods_code}/asks/").content.decode()
        assert expectation_ids(html) == expected_for(ccg, year, {"draft", "consultation", "agreed"})

    def test_the_organisations_page_links_to_what_is_asked_of_it(self, client, seeded):
        trust = seeded["trust"]
        client.force_login(seeded["staff"])
        html = client.get(f"/organisations/{trust.ods_code}/").content.decode()
        assert f"/organisations/{trust.ods_code}/asks/" in html and 'id="asks-panel"' in html

    def test_the_pdf_letter_names_the_trust_both_bodies_and_every_target(self, client, seeded):
        if not shutil.which("pdftotext"):
            pytest.fail("pdftotext (poppler-utils) is needed to read the letter back")
        trust = seeded["trust"]
        client.force_login(seeded["staff"])
        response = client.get(f"/organisations/{trust.ods_code}/asks/letter.pdf?year=2019")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        ).stdout.decode()
        flat = " ".join(text.split())
        assert trust.name in flat
        assert "What NHS England and NHS Improvement ask of" in flat and "in 2019/20" in flat
        expected = Expectation.objects.filter(pk__in=expected_for(trust, 2019, {"draft", "consultation", "agreed"}))
        assert expected.exists()
        for expectation in expected:
            assert expectation.measure.target_words(expectation.comparator, expectation.target) in flat
        assert ">=" not in flat and "<=" not in flat
        # The 95% and the 90% A&E asks are flagged as conflicting, naming who asks what.
        assert "These asks conflict:" in flat, flat
        conflict = flat[flat.index("These asks conflict:") :][:400]
        assert "at least 95%" in conflict and "at least 90%" in conflict, conflict
        assert "have asks that conflict" in flat or "has asks that conflict" in flat
        # Signed, with a contact, from the settings.
        assert settings.LETTER_SIGNATORY in flat and settings.LETTER_CONTACT in flat
        pages = subprocess.run(["pdfinfo", "-"], input=response.content, capture_output=True, check=True).stdout
        assert re.search(rb"Pages:\s+1\b", pages), pages

    def test_the_letter_carries_the_nhs_logo(self, client, seeded, monkeypatch):
        from asks import one_voice

        rendered = []
        monkeypatch.setattr(one_voice, "render_pdf", lambda html, css="": rendered.append(html) or b"%PDF-")
        client.force_login(seeded["staff"])
        client.get(f"/organisations/{seeded['trust'].ods_code}/asks/letter.pdf?year=2019")
        assert '<svg class="nhs-logo"' in rendered[0] and 'fill="#005eb8"' in rendered[0]


class TestWhatIsAskedWithoutTheDemonstration:
    def test_a_year_that_is_not_a_year_is_refused_naming_the_field(self, client, nhse):
        trust = f.OrganisationFactory()
        client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
        response = client.get(f"/organisations/{trust.ods_code}/asks/?year=next")
        assert response.status_code == 400 and "Enter a year as 4 numbers" in response.content.decode()
        assert client.get(f"/organisations/{trust.ods_code}/asks/?year=99999").status_code == 400
        api = APIClient()
        api.force_authenticate(f.UserFactory(role="Staff", bodies=[nhse]))
        response = api.get(f"/api/v1/organisations/{trust.ods_code}/expectations/?year=next")
        assert response.status_code == 400 and "year" in response.json()

    def test_the_page_costs_the_same_queries_for_3_asks_as_for_12(self, client, nhse):
        trust = f.OrganisationFactory()
        programme = f.ProgrammeFactory(bodies=[nhse])
        client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
        run = f.ReportRunFactory()  # an open run, so the flags are looked up

        def count(n):
            for _ in range(n):
                e = f.ExpectationFactory(
                    programme=programme, issued_by=nhse, stage="agreed", due_date=dt.date(2100, 3, 31)
                )
                f.MeasurementFactory(measure=e.measure, region=trust.region, month=dt.date(2019, 1, 1))
            client.get(f"/organisations/{trust.ods_code}/asks/")
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/organisations/{trust.ods_code}/asks/")
            assert response.status_code == 200
            return len(queries), len(expectation_ids(response.content.decode()))

        few, shown_few = count(3)
        many, shown_many = count(9)
        assert (shown_few, shown_many) == (3, 12)
        assert few == many, (few, many)
        assert many <= 14
        assert run.pk


def open_for(expectation, days=14):
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


class TestConsultation:
    @pytest.fixture
    def world(self, nhse, nhsi):
        region = f.RegionFactory()
        trust = f.OrganisationFactory(region=region, name="Riverside NHS Trust")
        other = f.OrganisationFactory(region=region, name="Hillside NHS Trust")
        programme = f.ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse)
        measure = f.MeasureFactory(code="ae-test", name="A&E four hours (test)", unit="percent")
        f.ProgrammeMeasureFactory(programme=programme, measure=measure, target=95)
        return {
            "trust": trust,
            "other": other,
            "programme": programme,
            "measure": measure,
            "staff": f.UserFactory(role="Staff", bodies=[nhse], username="staff"),
            "partner": partner_for(trust),
            "other_partner": partner_for(other),
        }

    def test_draft_consultation_concern_answer_agreement_and_the_partner_sees_the_agreed_version(
        self, client, world, nhse, monkeypatch
    ):
        staff, partner, trust = world["staff"], world["partner"], world["trust"]
        api = APIClient()
        api.force_authenticate(staff)
        created = api.post(
            "/api/v1/expectations/",
            {
                "programme": world["programme"].slug,
                "issued_by": "NHSE",
                "audience": "providers",
                "region": None,
                "measure": "ae-test",
                "comparator": ">=",
                "target": 92,
                "start_date": "2019-04-01",
                "due_date": "2100-03-31",
                "wording": "Trusts see 92% of patients within four hours.",
                "stage": "agreed",  # read only: a draft is a draft
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        expectation = Expectation.objects.get(pk=created.json()["id"])
        assert expectation.stage == "draft"

        # A draft is for staff only.
        client.force_login(partner)
        assert client.get(f"/consultations/{expectation.pk}/").status_code == 404
        assert expectation.pk not in expectation_ids(
            client.get(f"/organisations/{trust.ods_code}/asks/").content.decode()
        )

        # Staff open the consultation; a past closing date is refused naming the field.
        client.force_login(staff)
        response = client.post(f"/expectations/{expectation.pk}/consult/", {"closes": "2000-01-01"})
        assert response.status_code == 400 and "The closing date must be in the future" in response.content.decode()
        response = client.post(f"/expectations/{expectation.pk}/consult/", {"closes": open_for(expectation)})
        assert response.status_code == 302
        expectation.refresh_from_db()
        assert expectation.stage == "consultation"

        # The partner sees it, and responds: a concern needs words.
        client.force_login(partner)
        assert expectation.pk in expectation_ids(client.get("/consultations/").content.decode())
        response = client.post(f"/consultations/{expectation.pk}/", {"position": "concerns", "comment": "  "})
        assert response.status_code == 400 and "Enter your concerns" in response.content.decode()
        assert not ExpectationResponse.objects.exists()
        response = client.post(
            f"/consultations/{expectation.pk}/",
            {"position": "concerns", "comment": "92% is not reachable this winter without more beds."},
        )
        assert response.status_code == 302
        concern = ExpectationResponse.objects.get()
        assert concern.organisation == trust and concern.responded_by == partner

        # Another trust's partner responds too, but neither sees the other's response.
        client.force_login(world["other_partner"])
        client.post(f"/consultations/{expectation.pk}/", {"position": "agree", "comment": ""})
        html = client.get(f"/consultations/{expectation.pk}/").content.decode()
        assert "Hillside NHS Trust: we agree" in html and "not reachable this winter" not in html
        client.force_login(partner)
        html = client.get(f"/consultations/{expectation.pk}/").content.decode()
        assert "not reachable this winter" in html and "Hillside" not in html

        # Staff cannot agree while it is open; they answer the concern.
        client.force_login(staff)
        response = client.post(f"/expectations/{expectation.pk}/agree/", {"summary": "Agreed."})
        assert response.status_code == 400 and "agree it after it closes" in response.content.decode()
        response = client.post(f"/consultation-responses/{concern.pk}/answer/", {"answer": ""})
        assert response.status_code == 400 and "Enter your answer" in response.content.decode()
        response = client.post(
            f"/consultation-responses/{concern.pk}/answer/",
            {"answer": "Winter funding for 40 beds is agreed for your system."},
        )
        assert response.status_code == 302

        # The consultation closes; the bodies agree, summarising the responses.
        closes = expectation.consultation_closes
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: closes + dt.timedelta(days=1))
        client.force_login(partner)
        response = client.post(f"/consultations/{expectation.pk}/", {"position": "agree"})
        assert response.status_code == 400 and "This consultation is closed" in response.content.decode()
        client.force_login(staff)
        assert client.post(f"/expectations/{expectation.pk}/agree/", {"summary": ""}).status_code == 400
        response = client.post(
            f"/expectations/{expectation.pk}/agree/",
            {"summary": "One trust agreed; one raised winter capacity, answered by the winter funding."},
        )
        assert response.status_code == 302
        # NHS England's staff agree for NHS England only: NHS Improvement's staff agree for it.
        expectation.refresh_from_db()
        assert expectation.stage == "consultation" and list(expectation.agreed_by.values_list("code", flat=True)) == [
            "NHSE"
        ]
        client.force_login(f.UserFactory(role="Staff", bodies=[NationalBody.objects.get(code="NHSI")]))
        assert client.post(f"/expectations/{expectation.pk}/agree/", {}).status_code == 302
        client.force_login(staff)
        expectation.refresh_from_db()
        assert expectation.stage == "agreed" and expectation.agreed_on == closes + dt.timedelta(days=1)
        assert set(expectation.agreed_by.values_list("code", flat=True)) == {"NHSE", "NHSI"}
        # The other trust agreed: recorded against the programme's measure of success, with the date.
        agreement = MeasureAgreement.objects.get()
        assert agreement.organisation == world["other"] and agreement.programme_measure.measure == world["measure"]
        html = client.get(f"/programme-measures/{agreement.programme_measure.pk}/").content.decode()
        assert "Hillside NHS Trust" in html and f"{agreement.agreed_on:%-d %B %Y}" in html

        # The partner sees the agreed version, their own concern and its answer.
        client.force_login(partner)
        html = client.get(f"/consultations/{expectation.pk}/").content.decode()
        assert "Agreed" in html and "Winter funding for 40 beds" in html and "winter capacity" in html
        html = client.get(f"/organisations/{trust.ods_code}/asks/").content.decode()
        assert expectation.pk in expectation_ids(html) and "Agreed" in row_of(html, expectation.pk)

        # Agreed is kept as agreed: a change is a new version, and the old one is withdrawn when that is agreed.
        client.force_login(staff)
        assert client.get(f"/expectations/{expectation.pk}/edit/").status_code == 403
        assert api.patch(f"/api/v1/expectations/{expectation.pk}/", {"target": 90}, format="json").status_code == 403
        response = client.post(f"/expectations/{expectation.pk}/new-version/")
        new = Expectation.objects.get(supersedes=expectation)
        assert response.status_code == 302 and response["Location"] == f"/expectations/{new.pk}/edit/"
        assert new.stage == "draft" and new.wording == expectation.wording
        joint = f.UserFactory(role="Staff", bodies=list(world["programme"].bodies.all()))
        asks.agree(new, joint, no_consultation_reason="The same ask as agreed, with its wording corrected.")
        expectation.refresh_from_db()
        assert (
            expectation.stage == "withdrawn" and expectation.wording == "Trusts see 92% of patients within four hours."
        )
        assert expectation.history.filter(stage="agreed").exists()
        html = client.get(f"/organisations/{trust.ods_code}/asks/").content.decode()
        assert new.pk in expectation_ids(html) and expectation.pk not in expectation_ids(html)

    def test_the_consultation_pages_cost_the_same_queries_for_2_responses_as_for_8(self, client, world, nhse):
        ask = f.ExpectationFactory(
            programme=world["programme"],
            issued_by=nhse,
            measure=world["measure"],
            stage="consultation",
            consultation_closes=dt.date(2100, 1, 1),
        )
        client.force_login(world["staff"])

        def count(n):
            for _ in range(n):
                org = f.OrganisationFactory(region=world["trust"].region)
                ExpectationResponse.objects.create(
                    expectation=ask,
                    organisation=org,
                    position="concerns",
                    comment="Too high.",
                    responded_by=partner_for(org),
                    responded_at=dt.datetime(2019, 1, 10, tzinfo=dt.UTC),
                )
                f.ExpectationFactory(
                    programme=world["programme"],
                    issued_by=nhse,
                    stage="consultation",
                    consultation_closes=dt.date(2100, 1, 1),
                )
            counts = []
            for url in [f"/consultations/{ask.pk}/", "/consultations/", f"/expectations/{ask.pk}/"]:
                client.get(url)
                with CaptureQueriesContext(connection) as queries:
                    assert client.get(url).status_code == 200, url
                counts.append(len(queries))
            return counts

        few, many = count(2), count(6)
        assert few == many, (few, many)
        assert ask.responses.count() == 8

    def test_the_rule_finds_an_ask_agreed_without_consultation_or_over_unanswered_concerns(self, world, nhse):
        rule = all_rules()["expectation-consultation"]
        common = {"programme": world["programme"], "issued_by": nhse, "measure": world["measure"]}
        migrated = f.ExpectationFactory(stage="agreed", **common)  # agreed before consultations were kept
        unconsulted = f.ExpectationFactory(stage="draft", **common)
        joint = f.UserFactory(role="Staff", bodies=list(world["programme"].bodies.all()))
        reasoned = f.ExpectationFactory(stage="draft", **common)
        asks.agree(reasoned, joint, no_consultation_reason="It corrects the wording of an agreed ask.")
        # Agreed without a consultation or a reason: written as it was before the portal asked for one.
        unconsulted.stage, unconsulted.agreed_on = "agreed", dt.date(2019, 2, 1)
        unconsulted.save()
        consulted = f.ExpectationFactory(stage="consultation", consultation_closes=dt.date(2019, 1, 31), **common)
        concern = ExpectationResponse.objects.create(
            expectation=consulted,
            organisation=world["trust"],
            position="concerns",
            comment="Too high.",
            responded_by=world["partner"],
            responded_at=dt.datetime(2019, 1, 10, tzinfo=dt.UTC),
        )
        asks.agree(consulted, joint, "One concern.", today=dt.date(2019, 2, 1))
        found = {x.records[0]["id"]: x.message for x in rule.check(Context())}
        assert set(found) == {unconsulted.pk, consulted.pk} and migrated.pk not in found and reasoned.pk not in found
        assert "without a consultation" in found[unconsulted.pk]
        assert "1 concern raised in its consultation had no answer" in found[consulted.pk]
        asks.answer(concern, world["staff"], "We will phase it.")
        assert {x.records[0]["id"] for x in rule.check(Context())} == {unconsulted.pk}

    def test_a_withdrawn_version_is_not_a_second_voice(self, world, nhse):
        common = {"programme": world["programme"], "issued_by": nhse, "measure": world["measure"]}
        f.ExpectationFactory(stage="withdrawn", target=90, **common)
        f.ExpectationFactory(stage="agreed", target=95, **common)
        assert list(all_rules()["expectation-conflict"].check(Context())) == []


def concrete_urls(pattern_list, prefix=""):
    """Every URL pattern of the portal as (name, route with its converters), walked from the resolver."""
    for entry in pattern_list:
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            for name, route in concrete_urls(entry.url_patterns, prefix + str(entry.pattern)):
                yield (namespace + name if name else name), route
        elif isinstance(entry, URLPattern):
            yield entry.name, prefix + str(entry.pattern)


class TestPartnersSeeOnlyTheirOwn:
    @pytest.fixture
    def world(self, nhse, nhsi):
        region = f.RegionFactory()
        system = f.LocalHealthSystemFactory(region=region)
        trust = f.OrganisationFactory(region=region, local_system=system, name="Riverside NHS Trust")
        other = f.OrganisationFactory(region=region, name="Hillside NHS Trust")
        programme = f.ProgrammeFactory(bodies=[nhse], accountable_body=nhse)
        measure = f.MeasureFactory(code="ae-test", name="A&E four hours (test)")
        common = {"programme": programme, "issued_by": nhse, "measure": measure, "due_date": dt.date(2100, 3, 31)}
        ask = f.ExpectationFactory(stage="consultation", consultation_closes=dt.date(2100, 1, 1), **common)
        draft = f.ExpectationFactory(stage="draft", target=80, wording="A secret draft.", **common)
        theirs = ExpectationResponse.objects.create(
            expectation=ask,
            organisation=other,
            position="concerns",
            comment="Hillside private concern.",
            responded_by=partner_for(other),
            responded_at=dt.datetime(2019, 1, 10, tzinfo=dt.UTC),
        )
        f.ReportRunFactory()
        return {
            "trust": trust,
            "other": other,
            "system": system,
            "ask": ask,
            "draft": draft,
            "theirs": theirs,
            "programme": programme,
            "partner": partner_for(trust),
            "staff": f.UserFactory(role="Staff", bodies=[nhse]),
        }

    def fill(self, route, world, own):
        """A route with its parameters filled: the partner's own organisation where one is named, or another's."""
        code = world["trust"].ods_code if own else world["other"].ods_code
        candidates = [code, str(world["ask"].pk), world["trust"].region.ods_code, world["programme"].slug]

        def group(match):
            name, inner = match.group(1), match.group(2)
            if name == "format":
                return "json"  # DRF's optional ".json" suffixes
            return next((c for c in candidates if re.fullmatch(inner, c)), "x")

        route = re.sub(r"(?<!\[)\^", "", route).replace("$", "")
        route = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, route)
        values = {"str": code, "int": str(world["ask"].pk), "slug": world["programme"].slug, "path": "x"}
        route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: values.get(m.group(1) or "str", "x"), route)
        return "/" + route.replace("\\.", ".").replace("\\", "")

    def test_every_page_and_api_route_is_closed_to_a_partner_except_their_own(self, client, world):
        partner = world["partner"]
        client.force_login(partner)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(partner)}")
        open_names = {
            "organisation-asks": 200,
            "organisation-asks-letter": 200,
            "consultation-list": 200,
            "consultation-detail": 200,
            "api-organisation-expectations": 200,
            "partner-home": 302,
            "home": 200,  # their open consultations, then their asks
            # Their own notifications, and the help pages of every page's footer.
            "notifications": 200,
            "notifications-mark": 405,
            "notification-settings": 200,
            "notification-email-link": 404,
            "glossary": 200,
            "service-status": 200,
            # The search finds only their own organisation's consulted and agreed asks (tests/test_search.py).
            "search": 200,
            "api-search": 200,
            # Their own consultations and responses (tests/test_consultation_loop.py).
            "api-consultations": 200,
            "api-consultation-responses": 405,
        }
        secrets = ["Hillside private concern", "A secret draft", "Open finding", "Hillside NHS Trust"]
        tried = set()
        for name, route in concrete_urls(get_resolver().url_patterns):
            if not name or route.startswith(("static", "admin", "__")):
                continue
            url = self.fill(route, world, own=True)
            is_api = url.startswith("/api/")
            caller = api if is_api else client
            tried.add(name)
            if name in {"login", "logout", "password_change", "api-token", "your-tokens", "your-token-revoke"}:
                continue  # their own account
            if name.startswith("nhs-identity") or name == "oidc-callback":
                continue
            for method in ("get", "post"):
                response = getattr(caller, method)(url + ("?q=Hillside&export=csv" if method == "get" else ""))
                body = b"".join(response.streaming_content) if response.streaming else response.content
                text = body.decode(errors="replace")
                for secret in secrets:
                    assert secret not in text, (name, url, method, secret)
                if name in open_names and method == "get":
                    assert response.status_code in (open_names[name], 200), (name, url, response.status_code)
                    # The same page for another organisation is not found.
                    other = getattr(caller, method)(self.fill(route, world, own=False))
                    if "<str:" in route or "(?P<code>" in route:
                        assert other.status_code == 404, (name, other.status_code)
                elif name in open_names:
                    assert response.status_code in (302, 400, 403, 404, 405), (name, method, response.status_code)
                else:
                    assert response.status_code in (403, 404, 405), (name, url, method, response.status_code)
        # The walk reached every kind of record's pages and every API resource.
        from nhs_joint.registry import registry

        for resource in registry.resources:
            assert f"{resource.name}-list" in tried and f"{resource.name}-detail" in tried, resource.name
        for route in registry.api_routes:
            assert f"api:{route.basename}-list" in tried, route.prefix
        assert {"api-schema", "api-docs", "report-run", "finding-decision"} <= tried

        # The local system's page is not theirs either (their organisation is).
        assert client.get(f"/local-systems/{world['system'].ods_code}/asks/").status_code == 404
        # Nothing written.
        assert ExpectationResponse.objects.count() == 1

    def test_their_own_page_shows_no_drafts_no_findings_and_the_api_no_flags(self, client, world):
        client.force_login(world["partner"])
        html = client.get(f"/organisations/{world['trust'].ods_code}/asks/").content.decode()
        assert expectation_ids(html) == {world["ask"].pk}
        assert "/findings/" not in html and "/programmes/" not in html
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(world['partner'])}")
        rows = api.get(f"/api/v1/organisations/{world['trust'].ods_code}/expectations/").json()["results"]
        assert [row["id"] for row in rows] == [world["ask"].pk] and "open_findings" not in rows[0]
        assert api.get("/api/v1/expectations/").status_code == 403
        assert api.post("/api/v1/expectations/", {}, format="json").status_code == 403
        html = client.get("/consultations/").content.decode()
        assert expectation_ids(html) == {world["ask"].pk}
        nav = re.findall(r'class="nhsuk-header__navigation-link"[^>]*href="([^"]+)"', html) + re.findall(
            r'href="([^"]+)"[^>]*class="nhsuk-header__navigation-link"', html
        )
        assert set(nav) <= {"/partners/", "/consultations/"}

    def test_a_partner_without_an_organisation_sees_nothing(self, client, world):
        client.force_login(f.UserFactory(role=Role.PARTNER))
        response = client.get("/partners/")
        assert response.status_code == 200 and "not linked to an organisation" in response.content.decode()
        assert client.get("/consultations/").content.decode().count("data-expectation") == 0
        assert client.get(f"/organisations/{world['trust'].ods_code}/asks/").status_code == 404

    def test_staff_still_reach_everything(self, client, world):
        client.force_login(world["staff"])
        for url in ["/programmes/", "/expectations/", f"/consultations/{world['ask'].pk}/", "/reports/"]:
            assert client.get(url).status_code == 200, url
        assert "Hillside private concern" in client.get(f"/consultations/{world['ask'].pk}/").content.decode()


class TestAdministratorLinksPartners:
    def test_a_partner_is_created_with_an_organisation_and_bad_links_are_named(self, client, nhse):
        from tests.factories import UserFactory

        trust = f.OrganisationFactory(ods_code="RJ1")
        client.force_login(UserFactory(role=Role.ADMINISTRATOR, bodies=[nhse]))
        base = {"username": "pat", "first_name": "Pat", "last_name": "Lee", "email": "pat@example.nhs.uk"}
        response = client.post("/users/new/", {**base, "role": Role.PARTNER, "organisation": "NOPE1"})
        assert response.status_code == 400 and "Select an organisation from the list" in response.content.decode()
        # The organisation is chosen by name: a list that narrows as the Administrator types, never a code to type.
        form = client.get("/users/new/").content.decode()
        assert re.search(r'<select[^>]*name="organisation"[^>]*data-module="autocomplete"', form) or re.search(
            r'<select[^>]*data-module="autocomplete"[^>]*name="organisation"', form
        ), form
        assert "Organisation (ODS code)" not in form
        response = client.post(
            "/users/new/", {**base, "role": Role.PARTNER, "bodies": [nhse.pk], "organisation": "RJ1"}
        )
        assert "A Partner works for neither body" in response.content.decode()
        response = client.post("/users/new/", {**base, "role": Role.STAFF, "organisation": "RJ1", "bodies": [nhse.pk]})
        assert "Only a Partner is linked" in response.content.decode()
        assert not User.objects.filter(username="pat").exists()
        response = client.post("/users/new/", {**base, "role": Role.PARTNER, "organisation": "RJ1"})
        assert response.status_code == 302, response.content.decode()[:2000]
        pat = User.objects.get(username="pat")
        assert pat.organisation == trust and pat.is_partner and not pat.bodies.exists()
        # The partner's page names their organisation, not the bodies and region a Partner does not have.
        page = client.get(f"/users/{pat.pk}/").content.decode()
        assert f"{trust.name} (RJ1)" in page and "No body" not in page and "No region" not in page
