import django_filters

from nhs_joint.db import current_q
from nhs_joint.filters import PortalFilterSet, RecordChoiceFilter
from organisations.filters import body_filter
from regions.filters import region_filter, region_scope_filter

from .models import Appointment, Person


def programmes():
    return Appointment._meta.get_field("programme").related_model.objects.all()


class PersonFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("email",)
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("email", "email")))

    class Meta:
        model = Person
        fields = ["q"]


class AppointmentFilterSet(PortalFilterSet):
    search_fields = ("title", "person__name")
    code_fields = ("person__email",)
    role = django_filters.MultipleChoiceFilter(choices=Appointment.Role.choices)
    region = region_filter(england=True)
    region_scope = region_scope_filter()
    body = body_filter("shares__body", label="Body")
    joint = django_filters.BooleanFilter(method="filter_joint", label="Joint (both bodies)")
    current = django_filters.BooleanFilter(method="filter_current", label="Current")
    programme = RecordChoiceFilter(
        field_name="programme",
        to_field_name="slug",
        # The programmes, through the appointment's field: programmes are a layer above appointments.
        queryset=lambda request: programmes().order_by("title").only("slug", "title"),
        label="Programme",
    )
    person = RecordChoiceFilter(
        field_name="person",
        to_field_name="email",
        queryset=Person.objects.order_by("name").only("email", "name"),
        label="Person",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("person__name", "person"),
            ("title", "title"),
            ("role", "role"),
            ("region__name", "region"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
        )
    )

    class Meta:
        model = Appointment
        fields = ["q", "role", "region", "region_scope", "body", "joint", "current", "programme", "person"]

    def filter_joint(self, queryset, name, value):
        if value is None:
            return queryset
        joint_ids = Appointment.objects.filter(shares__body__code="NHSE").filter(shares__body__code="NHSI").values("pk")
        return queryset.filter(pk__in=joint_ids) if value else queryset.exclude(pk__in=joint_ids)

    def filter_current(self, queryset, name, value):
        if value is None:
            return queryset
        current = current_q()
        return queryset.filter(current if value else ~current)
