from django.db.models import Prefetch

from nhs_joint.api import Api
from nhs_joint.dates import format_date
from nhs_joint.generic import DetailConfig, FormConfig, ListConfig, Resource
from nhs_joint.tables import Column, section

from . import api, filters, forms
from .models import Appointment, AppointmentShare, Person


def shares_text(appointment):
    return ", ".join(f"{s.body.code} {s.fte_percent.normalize():f}%" for s in appointment.shares.all())


appointment_queryset = lambda: Appointment.objects.select_related("person", "region", "programme").prefetch_related(  # noqa: E731
    Prefetch("shares", AppointmentShare.objects.select_related("body").order_by("body__code"))
)

appointments = Resource(
    model=Appointment,
    name="appointment",
    prefix="appointments",
    list=ListConfig(
        queryset=appointment_queryset,
        filterset=filters.AppointmentFilterSet,
        columns=[
            Column("person", order="person", link=True),
            Column("title", "Post", order="title"),
            Column("role", order="role"),
            Column("region", getter=lambda a: a.region or "National", order="region"),
            Column("shares", getter=shares_text),
            Column("joint", getter=lambda a: "Yes" if a.is_joint else "No"),
            Column("start_date", "Start", order="start_date"),
            Column("end_date", "End", order="end_date"),
        ],
        intro="Posts held by people for one body or, jointly, for both.",
    ),
    detail=DetailConfig(
        summary=lambda a: [
            ("Person", {"text": a.person.name, "href": a.person.get_absolute_url()}),
            ("Post", a.title),
            ("Role", a.get_role_display()),
            ("Region", str(a.region) if a.region else "National"),
            ("Programme", {"text": str(a.programme), "href": a.programme.get_absolute_url()} if a.programme else None),
            ("Shares", shares_text(a)),
            ("Joint appointment", "Yes, shared by both bodies" if a.is_joint else "No"),
            ("Start date", format_date(a.start_date)),
            ("End date", format_date(a.end_date) if a.end_date else "No end date"),
        ],
    ),
    form=FormConfig(
        form_class=forms.AppointmentForm,
    ),
    api=Api(
        doc="Posts held for one body or jointly for both, written with their shares nested.",
        serializer=api.AppointmentRules,
        more=("shares", "joint"),
        queryset=appointment_queryset,
    ),
)


def person_detail(person, request):
    return {
        "sections": [
            section(
                "appointments",
                "Appointments",
                [
                    Column("title", "Post", link=True),
                    Column("role"),
                    Column("region", getter=lambda a: a.region or "National"),
                    Column("shares", getter=shares_text),
                    Column("start_date", "Start"),
                    Column("end_date", "End"),
                ],
                list(person.appointments.all()),
            )
        ]
    }


people = Resource(
    model=Person,
    name="person",
    prefix="people",
    list=ListConfig(
        queryset=lambda: Person.objects.all(),
        filterset=filters.PersonFilterSet,
        columns=[Column("name", order="name", link=True), Column("email", order="email")],
    ),
    detail=DetailConfig(
        queryset=lambda: Person.objects.prefetch_related(
            Prefetch(
                "appointments",
                Appointment.objects.select_related("region").prefetch_related(
                    Prefetch("shares", AppointmentShare.objects.select_related("body"))
                ),
            )
        ),
        context=person_detail,
        summary=lambda p: [("Name", p.name), ("Email", p.email)],
    ),
    form=FormConfig(
        form_class=forms.PersonForm,
    ),
    reads=(AppointmentShare,),  # each appointment's shares
    api=Api(doc="People who hold posts (fictional in the demonstration data).", serializer=api.PersonRules),
)

RESOURCES = [appointments, people]
