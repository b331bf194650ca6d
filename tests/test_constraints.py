"""The database refuses bad data on its own, and models validate what it cannot hold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from appointments.models import Appointment, AppointmentShare, check_shares
from measures.models import Measurement
from organisations.models import NationalBody
from programmes.models import check_accountability
from tests.factories import (
    AppointmentFactory,
    AppointmentShareFactory,
    ExpectationFactory,
    MeasureFactory,
    MeasurementFactory,
    OrganisationFactory,
    PersonFactory,
    ProgrammeFactory,
    RegionFactory,
    StatutoryDutyFactory,
    WorkstreamFactory,
)

pytestmark = pytest.mark.django_db

APRIL = dt.date(2018, 4, 1)
MARCH = dt.date(2018, 3, 31)


def refused(create, constraint):
    """Assert that the database refuses what ``create`` writes, by the constraint named ``constraint``."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        create()
    assert excinfo.value.__cause__.diag.constraint_name == constraint, str(excinfo.value)


class TestDatesInOrder:
    def test_programme_end_before_start_is_refused(self, nhse):
        refused(lambda: ProgrammeFactory(start_date=APRIL, end_date=MARCH), "programme_end_date_not_before_start_date")

    def test_programme_ending_on_its_start_day_is_allowed(self, nhse):
        assert ProgrammeFactory(start_date=APRIL, end_date=APRIL).pk

    def test_workstream_end_before_start_is_refused(self, nhse):
        refused(
            lambda: WorkstreamFactory(start_date=APRIL, end_date=MARCH), "workstream_end_date_not_before_start_date"
        )

    def test_expectation_due_before_start_is_refused(self, nhse):
        refused(
            lambda: ExpectationFactory(start_date=APRIL, due_date=MARCH), "expectation_due_date_not_before_start_date"
        )

    def test_appointment_end_before_start_is_refused(self, nhse):
        refused(
            lambda: AppointmentFactory(start_date=APRIL, end_date=MARCH), "appointment_end_date_not_before_start_date"
        )

    def test_organisation_closed_before_opened_is_refused(self):
        refused(lambda: OrganisationFactory(opened=APRIL, closed=MARCH), "organisation_closed_not_before_opened")


class TestPercentages:
    @pytest.mark.parametrize("value", [Decimal("-0.01"), Decimal("100.01")])
    def test_share_outside_0_to_100_is_refused(self, nhse, value):
        refused(
            lambda: AppointmentShareFactory(body=nhse, fte_percent=value),
            "appointment_share_fte_percent_between_0_and_100",
        )

    @pytest.mark.parametrize("value", [0, 100])
    def test_share_on_the_bounds_is_allowed(self, nhse, value):
        assert AppointmentShareFactory(body=nhse, fte_percent=value).pk

    def test_percentage_standard_over_100_is_refused(self):
        refused(lambda: MeasureFactory(unit="percent", standard=120), "measure_percent_standard_between_0_and_100")

    def test_minutes_standard_over_100_is_allowed(self):
        assert MeasureFactory(unit="minutes", standard=180).pk

    def test_percentage_measurement_over_100_fails_validation(self):
        measurement = MeasurementFactory.build(
            measure=MeasureFactory(unit="percent"), region=RegionFactory(), value=101
        )
        with pytest.raises(ValidationError) as excinfo:
            measurement.full_clean()
        assert "value" in excinfo.value.message_dict

    def test_percentage_expectation_target_over_100_fails_validation(self, nhse):
        expectation = ExpectationFactory.build(
            programme=ProgrammeFactory(), issued_by=nhse, measure=MeasureFactory(unit="percent"), target=150
        )
        with pytest.raises(ValidationError) as excinfo:
            expectation.full_clean()
        assert "target" in excinfo.value.message_dict


class TestOneMeasurementPerMonth:
    def test_second_measurement_for_same_region_and_month_is_refused(self):
        first = MeasurementFactory()
        refused(
            lambda: MeasurementFactory(measure=first.measure, region=first.region, month=first.month),
            "measurement_one_per_measure_region_month",
        )

    def test_second_england_measurement_for_same_month_is_refused(self):
        # An empty region means all England: two England values for one month are refused too.
        first = MeasurementFactory(region=None)
        refused(
            lambda: MeasurementFactory(measure=first.measure, region=None, month=first.month),
            "measurement_one_per_measure_region_month",
        )

    def test_other_month_or_region_is_allowed(self):
        first = MeasurementFactory()
        MeasurementFactory(measure=first.measure, region=first.region, month=dt.date(2018, 5, 1))
        MeasurementFactory(measure=first.measure, region=RegionFactory(), month=first.month)
        MeasurementFactory(measure=first.measure, region=None, month=first.month)
        assert Measurement.objects.count() == 4

    def test_month_must_be_its_first_day(self):
        refused(lambda: MeasurementFactory(month=dt.date(2018, 4, 15)), "measurement_month_is_first_day")


class TestOneRegionalDirectorAtATime:
    def director(self, region, start, end=None):
        return AppointmentFactory(
            role=Appointment.Role.REGIONAL_DIRECTOR,
            title="Regional Director",
            region=region,
            start_date=start,
            end_date=end,
        )

    def test_overlapping_directors_of_one_region_are_refused(self):
        region = RegionFactory()
        self.director(region, dt.date(2018, 4, 1), dt.date(2019, 3, 31))
        refused(lambda: self.director(region, dt.date(2019, 3, 31)), "appointment_one_regional_director_at_a_time")

    def test_director_with_no_end_date_blocks_any_later_one(self):
        region = RegionFactory()
        self.director(region, dt.date(2018, 4, 1))
        refused(
            lambda: self.director(region, dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
            "appointment_one_regional_director_at_a_time",
        )

    def test_consecutive_directors_are_allowed(self):
        region = RegionFactory()
        self.director(region, dt.date(2018, 4, 1), dt.date(2019, 3, 31))
        assert self.director(region, dt.date(2019, 4, 1)).pk

    def test_directors_of_different_regions_may_overlap(self):
        self.director(RegionFactory(), APRIL)
        assert self.director(RegionFactory(), APRIL).pk

    def test_other_roles_may_overlap_in_one_region(self):
        region = RegionFactory()
        self.director(region, APRIL)
        assert AppointmentFactory(role=Appointment.Role.OTHER, region=region, start_date=APRIL).pk

    def test_regional_director_needs_a_region(self):
        refused(lambda: self.director(None, APRIL), "appointment_regional_director_has_region")

    def test_moving_a_director_into_an_occupied_term_is_refused(self):
        region = RegionFactory()
        self.director(region, dt.date(2018, 4, 1), dt.date(2019, 3, 31))
        later = self.director(region, dt.date(2019, 4, 1))
        later.start_date = dt.date(2019, 1, 1)
        refused(later.save, "appointment_one_regional_director_at_a_time")


class TestNaturalKeysAreUnique:
    def test_programme_slug(self, nhse):
        ProgrammeFactory(slug="cancer")
        refused(lambda: ProgrammeFactory(slug="cancer"), "programmes_programme_slug_key")

    def test_measure_code(self):
        MeasureFactory(code="ae-4hr")
        refused(
            lambda: MeasureFactory._meta.model.objects.create(
                code="ae-4hr", name="Again", unit="percent", direction="higher"
            ),
            "programmes_measure_code_key",
        )

    def test_body_code(self, nhse):
        refused(
            lambda: NationalBody.objects.create(code="NHSE", name="Another name"), "organisations_nationalbody_code_key"
        )

    def test_region_ods_code(self):
        RegionFactory(ods_code="Y56")
        refused(
            lambda: RegionFactory._meta.model.objects.create(ods_code="Y56", name="Copy", slug="copy"),
            "regions_region_ods_code_key",
        )

    def test_organisation_ods_code(self):
        OrganisationFactory(ods_code="R0A")
        refused(lambda: OrganisationFactory(ods_code="R0A"), "organisations_organisation_ods_code_key")

    def test_person_email_ignoring_case(self):
        PersonFactory(email="Jo.Bloggs@example.nhs.uk")
        refused(lambda: PersonFactory(email="jo.bloggs@EXAMPLE.nhs.uk"), "appointments_person_email_key")

    def test_share_body_once_per_appointment(self, nhse):
        share = AppointmentShareFactory(body=nhse, fte_percent=50)
        refused(
            lambda: AppointmentShareFactory(appointment=share.appointment, body=nhse, fte_percent=50),
            "appointment_share_one_per_body",
        )

    def test_unknown_audience_is_refused(self, nhse):
        refused(lambda: WorkstreamFactory(audiences=["providers", "patients"]), "workstream_audiences_known")


class TestSharesTotal100:
    def test_joint_shares_totalling_100_are_sound(self, nhse, nhsi):
        assert check_shares([(nhse, 50), (nhsi, 50)]) is None

    @pytest.mark.parametrize(
        "shares, words",
        [([("E", 50), ("I", 40)], "total 90%"), ([("E", 60), ("I", 60)], "total 120%"), ([], "at least one")],
    )
    def test_shares_not_totalling_100_are_named(self, shares, words):
        assert words in check_shares(shares)

    def test_a_body_twice_is_refused(self, nhse):
        assert "only one share" in check_shares([(nhse, 50), (nhse, 50)])

    def test_appointment_validation_reports_shares(self, nhse, nhsi):
        appointment = AppointmentFactory()
        AppointmentShare.objects.create(appointment=appointment, body=nhse, fte_percent=50)
        AppointmentShare.objects.create(appointment=appointment, body=nhsi, fte_percent=40)
        with pytest.raises(ValidationError) as excinfo:
            appointment.full_clean()
        assert "total 90%" in excinfo.value.message_dict["shares"][0]


class TestStatutoryAccountability:
    def test_accountable_body_must_run_the_programme(self, nhse, nhsi):
        errors = check_accountability([nhse], nhsi, None)
        assert "accountable_body" in errors

    def test_duty_must_belong_to_the_accountable_body(self, nhse, nhsi):
        nhsi_duty = StatutoryDutyFactory(body=nhsi)
        errors = check_accountability([nhse, nhsi], nhse, nhsi_duty)
        assert "belongs to NHSI" in errors["duty"]

    def test_sound_programme_has_no_errors(self, nhse, nhsi):
        assert check_accountability([nhse, nhsi], nhse, StatutoryDutyFactory(body=nhse)) == {}

    def test_programme_full_clean_applies_the_rules(self, nhse, nhsi):
        programme = ProgrammeFactory(bodies=[nhse], accountable_body=nhse)
        programme.accountable_body = nhsi
        with pytest.raises(ValidationError) as excinfo:
            programme.full_clean()
        assert "accountable_body" in excinfo.value.message_dict


class TestHistory:
    def test_a_change_records_who_when_and_what(self, nhse):
        from tests.factories import UserFactory

        user = UserFactory()
        programme = ProgrammeFactory(title="Old title")
        programme._history_user = user
        programme.title = "New title"
        programme.save()
        latest, previous = programme.history.all()[:2]
        delta = latest.diff_against(previous)
        assert [(c.field, c.old, c.new) for c in delta.changes] == [("title", "Old title", "New title")]
        assert latest.history_user == user
        assert latest.history_date is not None

    def test_workstream_region_changes_are_recorded(self, nhse):
        workstream = WorkstreamFactory()
        region = RegionFactory()
        workstream.regions.add(region)
        latest = workstream.history.first()
        assert [r.region_id for r in latest.regions.all()] == [region.pk]
        assert workstream.history.count() >= 2
