"""factory_boy factories for the portal's models, shared by every test."""

import datetime as dt

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from appointments.models import Appointment, AppointmentShare, Person
from asks.models import Expectation
from measures.models import Measure, Measurement, ProgrammeMeasure
from organisations.models import NationalBody, Organisation, StatutoryDuty
from programmes.models import BoardApproval, Programme, ProgrammeRisk, RegionalDelivery, Workstream
from regions.models import LocalHealthSystem, Region


def code3(prefix, n):
    """A three-character ODS-like code: the prefix and n in base 36 (1,296 of each)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return prefix + digits[(n // 36) % 36] + digits[n % 36]


class NationalBodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NationalBody
        django_get_or_create = ("code",)

    code = "NHSE"
    name = factory.LazyAttribute(lambda o: {"NHSE": "NHS England", "NHSI": "NHS Improvement"}.get(o.code, o.code))


class StatutoryDutyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatutoryDuty

    body = factory.SubFactory(NationalBodyFactory)
    slug = factory.Sequence(lambda n: f"duty-{n}")
    title = factory.Sequence(lambda n: f"Statutory duty {n}")
    legal_basis = "National Health Service Act 2006"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("ods_code",)

    ods_code = factory.Sequence(lambda n: code3("Z", n))
    name = factory.Sequence(lambda n: f"Test region {n}")
    short_name = factory.LazyAttribute(lambda o: o.name)
    slug = factory.LazyAttribute(lambda o: o.ods_code.lower())
    active = True


class LocalHealthSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalHealthSystem

    ods_code = factory.Sequence(lambda n: code3("W", n))
    name = factory.Sequence(lambda n: f"Local system {n}")
    region = factory.SubFactory(RegionFactory)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    ods_code = factory.Sequence(lambda n: f"T{n:04d}")
    name = factory.Sequence(lambda n: f"Test NHS Trust {n}")
    kind = Organisation.Kind.NHS_TRUST
    region = factory.SubFactory(RegionFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"person{n}@example.nhs.uk")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    person = factory.SubFactory(PersonFactory)
    title = "Programme director"
    role = Appointment.Role.PROGRAMME_DIRECTOR
    start_date = dt.date(2018, 4, 1)


class AppointmentShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentShare

    appointment = factory.SubFactory(AppointmentFactory)
    body = factory.SubFactory(NationalBodyFactory)
    fte_percent = 100


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    start_date = dt.date(2018, 4, 1)
    status = Programme.Status.ACTIVE

    @factory.post_generation
    def bodies(self, create, extracted, **kwargs):
        if create:
            self.bodies.set(extracted or [self.accountable_body or NationalBodyFactory()])


class BoardApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardApproval

    programme = factory.SubFactory(ProgrammeFactory)
    body = factory.SubFactory(NationalBodyFactory)
    decision = BoardApproval.Decision.APPROVED
    date = factory.Sequence(lambda n: dt.date(2018, 5, 24) + dt.timedelta(days=n))


class RegionalDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegionalDelivery

    programme = factory.SubFactory(ProgrammeFactory)
    region = factory.SubFactory(RegionFactory)
    rag = RegionalDelivery.Rag.GREEN


class WorkstreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workstream
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Workstream {n}")
    body = factory.SubFactory(NationalBodyFactory)
    audiences = factory.LazyFunction(lambda: ["providers"])
    start_date = dt.date(2018, 4, 1)

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"measure-{n}")
    name = factory.Sequence(lambda n: f"Measure {n}")
    unit = Measure.Unit.PERCENT
    direction = Measure.Direction.HIGHER
    standard = 95
    comparator = ">="


class ExpectationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expectation

    programme = factory.SubFactory(ProgrammeFactory)
    issued_by = factory.SubFactory(NationalBodyFactory)
    audience = "providers"
    measure = factory.SubFactory(MeasureFactory)
    comparator = ">="
    target = 95
    start_date = dt.date(2018, 4, 1)
    due_date = dt.date(2019, 3, 31)
    wording = "Providers should meet the standard."


class ProgrammeMeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeMeasure
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    measure = factory.SubFactory(MeasureFactory)
    target = 95
    agreed_on = dt.date(2018, 6, 1)


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    measure = factory.SubFactory(MeasureFactory)
    region = factory.SubFactory(RegionFactory)
    month = dt.date(2018, 4, 1)
    value = 90


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.nhs.uk")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])

    @factory.post_generation
    def bodies(self, create, extracted, **kwargs):
        if create and extracted:
            self.bodies.set(extracted)
        if create:
            self.save()


class ReportRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "reports.ReportRun"

    kind = "consistency"
    status = "succeeded"
    progress = 100
    counts = factory.LazyFunction(lambda: {"findings": 1})


class FindingFactory(factory.django.DjangoModelFactory):
    """A finding about one programme (give ``records`` for others)."""

    class Meta:
        model = "reports.Finding"

    run = factory.SubFactory(ReportRunFactory)
    rule = "board-approval"
    severity = "high"
    message = factory.Sequence(lambda n: f"Finding {n}: a programme lacks a Board approval.")
    records = factory.LazyFunction(lambda: [{"type": "programme", "id": 1, "key": "winter", "label": "Winter"}])
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    records_state = factory.Sequence(lambda n: f"{n:064x}")


def token_for(user, name="Test client"):
    """A new API token of ``user`` (the text to send as ``Authorization: Token <token>``)."""
    from accounts.models import ApiToken

    return ApiToken.issue(user, name=name)[1]


class ProgrammeRiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeRisk

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Risk {n}")
    likelihood = ProgrammeRisk.Likelihood.POSSIBLE
    impact = ProgrammeRisk.Impact.MAJOR
    owner = factory.SubFactory(PersonFactory)
    mitigation = "Weekly review by the programme board."
