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


@pytest.fixture
def draw_every_time(settings):
    """Pages drawn on every request, not answered from the drawing kept for them (nhs_joint/conditional.py):
    for the tests that count what drawing a page costs."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def forget_kept_parts():
    """No test reads a part or a list's order kept by another (nhs_joint/parts.py, nhs_joint/page_ids.py)."""
    from nhs_joint import page_ids, parts

    parts.clear()
    page_ids.clear()
