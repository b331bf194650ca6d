import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db
def test_roles_exist_after_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Staff",
        "Regional director",
        "Administrator",
        "Partner",
    }
