import django_filters
from django.contrib.auth.models import Group

from nhs_joint.filters import PortalFilterSet
from organisations.filters import body_filter
from regions.filters import region_filter

from .models import User


class UserFilterSet(PortalFilterSet):
    search_fields = ("first_name", "last_name")
    code_fields = ("username", "email")
    role = django_filters.ModelChoiceFilter(
        field_name="groups", to_field_name="name", queryset=Group.objects.all(), label="Role", distinct=True
    )
    body = body_filter("bodies")
    region = region_filter()
    is_active = django_filters.BooleanFilter(label="Active")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("username", "username"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("region__name", "region"),
            ("is_active", "is_active"),
        )
    )

    class Meta:
        model = User
        fields = ["q", "role", "body", "region", "is_active"]
