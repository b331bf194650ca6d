import pytest


@pytest.fixture
def nhse(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")


@pytest.fixture
def nhsi(db):
    from tests.factories import NationalBodyFactory

    return NationalBodyFactory(code="NHSI", name="NHS Improvement")
