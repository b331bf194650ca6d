"""The demonstration data set: complete, believable, idempotent, with exactly the planted problems."""

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Max, Q

from appointments.models import Appointment
from asks.models import Expectation
from measures.models import Measurement, ProgrammeMeasure
from programmes.demo import PLANTED, last_complete_month
from programmes.models import BoardApproval, Programme, RegionalDelivery, Workstream
from regions.models import Region
from tests.conftest import shared_test_data

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
PORTAL_APPS = ("accounts", "organisations", "regions", "programmes", "measures", "asks", "appointments")


def seed_demo():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot():
    """Rows of every portal model (history included) and each programme's version."""
    counts = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PORTAL_APPS
    }
    counts["versions"] = tuple(Programme.objects.order_by("slug").values_list("version", flat=True))
    return counts


def shares_of(appointment):
    return {s.body.code: s.fte_percent for s in appointment.shares.all()}


def current(queryset, today):
    return queryset.filter(Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today)))


PASSWORD = "a-test-password-42"


def set_up_as_run_sh_with_the_password():
    """scripts/run.sh's set-up (the reference data, both ODS files, seed_demo and the rest), with DEMO_PASSWORD
    set to PASSWORD: what seed_demo printed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEMO_PASSWORD", PASSWORD)
        return {"output": run_setup()["seed_demo"]}


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """scripts/run.sh's set-up run once, on an empty database, for a class whose tests read what it made or run
    it again over it: what a test writes is rolled back after it, and the demonstration after the class's last
    test."""
    yield from shared_test_data(django_db_blocker, set_up_as_run_sh_with_the_password)


# The demonstration takes seconds to build: one worker (pytest-xdist) builds it once, and the tests share it.
@pytest.mark.xdist_group("seed-demo")
@pytest.mark.usefixtures("seeded_once")
class TestTheDemonstration:
    @pytest.fixture(autouse=True)
    def the_same_password(self, monkeypatch):
        """Each run of seed_demo in the class is the very command that built the demonstration."""
        monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    def test_the_data_set_is_complete_and_only_the_planted_problems_are_wrong(self, seeded_once):
        output = seeded_once["output"]
        today = dt.date.today()
        active_regions = list(Region.objects.active())
        assert len(active_regions) == 7

        # Programmes and their parts.
        assert Programme.objects.count() == 22
        per_programme = Counter(Workstream.objects.values_list("programme__slug", flat=True))
        assert set(per_programme) == set(Programme.objects.values_list("slug", flat=True))
        assert all(3 <= n <= 6 for n in per_programme.values()), per_programme
        assert Expectation.objects.filter(audience="providers").exists()
        assert Expectation.objects.filter(audience="commissioners").exists()
        assert all(e.start_date <= today <= e.due_date for e in Expectation.objects.all())

        # A&E: NHS England's published figures, April 2016 to March 2019, imported as published (England's alone
        # here, where no ODS trusts are loaded to place the providers in their regions).
        ae = Measurement.every_level.filter(measure__code="ae-4hr")
        assert set(ae.values_list("source", flat=True)) == {"published"}
        england = ae.filter(region__isnull=True, organisation__isnull=True, local_system__isnull=True)
        first_and_last = slice(None, None, 35)
        assert [f"{m:%Y-%m}" for m in england.order_by("month").values_list("month", flat=True)[first_and_last]] == [
            "2016-04",
            "2019-03",
        ]
        assert england.count() == 36 and all(m.denominator > 1_500_000 for m in england)
        # Generated measurements: at least 36 months for each other agreed measure, region and England.
        last = last_complete_month(today)
        agreed = set(ProgrammeMeasure.objects.values_list("measure__code", flat=True))
        assert len(agreed) == 10
        assert set(Measurement.objects.exclude(measure__code="ae-4hr").values_list("source", flat=True)) == {
            "generated"
        }
        months = Counter(Measurement.objects.values_list("measure__code", "region__ods_code"))
        for code in agreed - {"ae-4hr"}:
            for area in [None] + [r.ods_code for r in active_regions]:
                assert months[(code, area)] >= 36, (code, area)
        assert Measurement.objects.filter(month=last).exists()

        # 1. region-director: every active region has exactly one current joint Regional Director, but Y61.
        for region in active_regions:
            directors = list(current(Appointment.objects.filter(region=region, role="regional_director"), today))
            assert len(directors) == 1, region
            expected = {"NHSE": 100} if region.ods_code == "Y61" else {"NHSE": 50, "NHSI": 50}
            assert shares_of(directors[0]) == expected, region

        # 2 and 10. expectation-conflict and duplicate-ask: the only pairs on one measure, audience and area.
        pairs = []
        expectations = list(Expectation.objects.select_related("programme", "measure", "region"))
        for i, a in enumerate(expectations):
            for b in expectations[i + 1 :]:
                same_area = a.region_id == b.region_id or a.region_id is None or b.region_id is None
                if a.measure_id == b.measure_id and a.audience == b.audience and same_area:
                    pairs.append(
                        (a.measure.code, a.audience, a.target == b.target, {a.programme.slug, b.programme.slug})
                    )
        assert sorted(pairs, key=str) == sorted(
            [
                ("ae-4hr", "providers", False, {"urgent-emergency-care", "single-oversight-framework"}),
                ("cancer-62d", "providers", True, {"cancer", "single-oversight-framework"}),
            ],
            key=str,
        )

        # 3. statutory-accountability: every duty belongs to the accountable body, but the tariff's.
        for programme in Programme.objects.select_related("duty__body", "accountable_body").prefetch_related("bodies"):
            assert programme.accountable_body in programme.bodies.all(), programme
            wrong = programme.duty.body_id != programme.accountable_body_id
            assert wrong == (programme.slug == "national-tariff"), programme

        # 4. board-approval: approved and active programmes are approved by each body's Board, but maternity.
        for programme in Programme.objects.filter(status__in=["approved", "active"]).prefetch_related("bodies"):
            approved = set(
                BoardApproval.objects.filter(programme=programme, decision="approved").values_list(
                    "body__code", flat=True
                )
            )
            missing = {b.code for b in programme.bodies.all()} - approved
            assert missing == ({"NHSI"} if programme.slug == "maternity" else set()), programme

        # 5. appointment-shares: every appointment's shares total 100, but Jo Okafor's.
        totals = {a.person.email: sum(shares_of(a).values()) for a in Appointment.objects.select_related("person")}
        assert {email for email, total in totals.items() if total != 100} == {"jo.okafor@example.nhs.uk"}
        assert totals["jo.okafor@example.nhs.uk"] == Decimal(90)

        # 6. regional-coverage: every active programme has a delivery record in each active region, but one.
        missing = {
            (p.slug, r.ods_code)
            for p in Programme.objects.filter(status="active")
            for r in active_regions
            if not RegionalDelivery.objects.filter(programme=p, region=r).exists()
        }
        assert missing == {("learning-disability", "Y58")}

        # 7. measure-data-gap: eip-2wk in the South East stops six months before the last month; the rest are current.
        latest = {
            (code, region): month
            for code, region, month in Measurement.objects.values_list("measure__code", "region__ods_code")
            .annotate(last=Max("month"))
            .order_by()
        }
        behind = {key for key, month in latest.items() if month != last and key[0] != "ae-4hr"}
        assert behind == {("eip-2wk", "Y59")}
        assert latest[("ae-4hr", None)] == dt.date(2019, 3, 1)  # the published figures end there, for every area
        assert (last.year - latest[("eip-2wk", "Y59")].year) * 12 + last.month - latest[("eip-2wk", "Y59")].month == 6

        # 8. duplicate-work: the two discharge to assess workstreams share their scope.
        d2a = Workstream.objects.filter(title__istartswith="Discharge to assess")
        assert sorted(d2a.values_list("programme__slug", flat=True)) == ["seven-day-services", "urgent-emergency-care"]
        assert all(w.audiences == ["providers"] and not w.regions.exists() for w in d2a)

        # 9. duplicate-post: one single-body post per body with the same title ignoring case; no other such pair.
        singles = [
            (a.role, a.title.strip().lower(), a.region_id, next(iter(shares_of(a))))
            for a in current(Appointment.objects.select_related("person"), today)
            if len(shares_of(a)) == 1
        ]
        by_post = Counter((role, title, region) for role, title, region, _ in singles)
        duplicated = {post for post, n in by_post.items() if n > 1}
        assert duplicated == {("programme_director", "director of elective care", None)}

        assert len(PLANTED) == 10 and len({p["rule"] for p in PLANTED}) == 10
        assert "staff.demo" in output and "director.demo" in output and "admin.demo" in output

    def test_running_it_twice_changes_nothing(self):
        before = snapshot()  # after the first run: the class's set-up, on an empty database
        seed_demo()
        assert snapshot() == before

    def test_one_login_per_role_with_the_printed_password(self, seeded_once):
        output = seeded_once["output"]  # the run that made the logins, with DEMO_PASSWORD set to PASSWORD
        assert "password: a-test-password-42" in output
        for username, role in [
            ("staff.demo", "Staff"),
            ("director.demo", "Regional director"),
            ("admin.demo", "Administrator"),
        ]:
            user = authenticate(username=username, password="a-test-password-42")
            assert user is not None, username
            assert user.roles == {role}
            assert not user.must_change_password
            assert set(user.bodies.values_list("code", flat=True)) == {"NHSE", "NHSI"}
        director = authenticate(username="director.demo", password="a-test-password-42")
        assert director.region.ods_code == "Y56"
        # The director login is the person in London's Regional Director post.
        assert Appointment.objects.get(role="regional_director", region=director.region).person.user == director

    def test_reset_brings_the_demonstration_back_and_names_what_it_replaced(self):
        programme = Programme.objects.get(slug="cancer")
        seeded_title = programme.title
        programme.title = "Cancer (edited)"
        programme.save()
        out = io.StringIO()
        call_command("seed_demo", "--reset", stdout=out)
        programme.refresh_from_db()
        assert programme.title == seeded_title
        assert f"seed_demo --reset: replaced programme “{seeded_title}”: title" in out.getvalue()

    def test_reset_is_refused_where_demonstration_data_is_not_allowed(self, settings):
        programme = Programme.objects.get(slug="cancer")
        programme.title = "Cancer (edited)"
        programme.save()
        settings.DEMO_DATA_ALLOWED = False
        with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
            call_command("seed_demo", "--reset", stdout=io.StringIO())
        assert Programme.objects.get(slug="cancer").title == "Cancer (edited)"

    def test_running_the_setup_again_leaves_every_edit_in_place(self):
        from appointments.models import AppointmentShare, Person
        from measures.models import Measure

        # The set-up has run once (the class's), as on a new machine; each edit below is kept by running it again.
        london = Region.objects.get(ods_code="Y56")
        programme = Programme.objects.get(slug="cancer")
        programme.title, programme.theme = "Cancer (edited)", "cancer-care"
        programme.save()
        programme.bodies.set(programme.bodies.filter(code="NHSE"))
        delivery = RegionalDelivery.objects.filter(region=london).first()
        delivery.rag = "red" if delivery.rag != "red" else "green"
        delivery.note = "Edited by the London team"
        delivery.save()
        workstream = Workstream.objects.first()
        workstream.regions.set([london])
        measure = Measure.objects.get(code="ae-4hr")
        measure.name = "A&E: patients seen within four hours (edited)"
        measure.save()
        person = Person.objects.get(email="sam.staff@example.nhs.uk")
        person.name = "Samantha Staff"
        person.save()
        appointment = Appointment.objects.filter(role="regional_director", region=london).get()
        share = appointment.shares.get(body__code="NHSE")
        share.fte_percent = Decimal("60")
        share.save()
        AppointmentShare.objects.filter(appointment=appointment, body__code="NHSI").update(fte_percent=Decimal("40"))
        from accounts.models import User

        staff = User.objects.get(username="staff.demo")
        staff.set_password("a password the person chose")
        staff.save()
        history_rows = Programme.history.count()

        run_setup()

        programme.refresh_from_db()
        assert (programme.title, programme.theme) == ("Cancer (edited)", "cancer-care")
        assert set(programme.bodies.values_list("code", flat=True)) == {"NHSE"}
        changed = RegionalDelivery.objects.get(pk=delivery.pk)
        assert (changed.rag, changed.note) == (delivery.rag, "Edited by the London team")
        assert list(workstream.regions.all()) == [london]
        assert Measure.objects.get(code="ae-4hr").name.endswith("(edited)")
        assert Person.objects.get(email="sam.staff@example.nhs.uk").name == "Samantha Staff"
        assert sorted(appointment.shares.values_list("fte_percent", flat=True)) == [Decimal("40"), Decimal("60")]
        assert authenticate(username="staff.demo", password="a password the person chose") is not None
        assert Programme.history.count() == history_rows  # the second run wrote nothing over anybody


def test_it_refuses_where_demonstration_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Programme.objects.exists()


def run_sh_setup_steps():
    """The `manage.py` steps of scripts/run.sh, in its order (collectstatic has nothing to do with records)."""
    import shlex
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / "scripts" / "run.sh").read_text()
    steps = []
    for line in script.splitlines():
        if line.startswith(".venv/bin/python manage.py "):
            args = shlex.split(line)[2:]
            if args[0] not in {"collectstatic"}:
                steps.append(args)
    assert [s[0] for s in steps] == [
        "migrate",
        "load_reference",
        "import_ods",
        "import_ods",
        "seed_demo",
        "rebuild_search",
        "make_api_schema",
    ]
    return steps


def run_setup():
    """Each step of scripts/run.sh's set-up in turn; what each printed, by its command."""
    printed = {}
    for args in run_sh_setup_steps():
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=io.StringIO())
        printed[args[0]] = printed.get(args[0], "") + out.getvalue()
    return printed
