import pytest


@pytest.fixture
def nhse(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")


@pytest.fixture
def nhsi(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSI", name="NHS Improvement")


def create_roles():
    """The role groups of the data migration: transactional tests empty every table between tests, these too."""
    from django.contrib.auth.models import Group

    from accounts.models import Role

    for name in Role.ALL:
        Group.objects.get_or_create(name=name)
