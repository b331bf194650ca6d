"""The measurements API by level: an organisation's and a local health system's own figures, England's, a month."""

import datetime as dt

import pytest

from measures.models import Measurement
from measures.statistics_import import import_statistics
from tests import factories as f
from tests.test_api import client_for
from tests.test_statistics_import import london, march  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def ae(db):
    return f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", unit="percent", standard=95)


@pytest.fixture
def figures(ae, london):  # noqa: F811 - the fixture imported above
    import_statistics([("March.csv", march())], "ae")
    february = march(period="MSitAE-FEBRUARY-2019")
    import_statistics([("February.csv", february)], "ae")
    return ae


@pytest.fixture
def api(nhse):
    return client_for(f.UserFactory(role="Staff", bodies=[nhse]))


def listed(api, query):
    response = api.get(f"/api/v1/measurements/?{query}")
    assert response.status_code == 200, response.content
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


def test_an_organisations_own_figures(api, figures):
    rows = listed(api, "organisation=r1h")
    assert [(r["organisation"], r["month"]) for r in rows] == [("R1H", "2019-02-01"), ("R1H", "2019-03-01")]
    barts = rows[1]
    assert (barts["numerator"], barts["denominator"]) == (33867 - 5919, 33867)
    assert barts["region"] is None and barts["local_system"] is None and barts["source"] == "published"


def test_a_local_systems_own_figures_for_a_month(api, figures):
    rows = listed(api, "local_system=QMF&month=2019-03")
    assert [(r["local_system"], r["month"]) for r in rows] == [("QMF", "2019-03-01")]
    assert rows[0]["denominator"] == 33867 + 22102


def test_england_is_englands_own_figures_and_the_default_list_regions_and_england(api, figures):
    england = listed(api, "region=ENG&region_scope=own&month=2019-03")
    assert len(england) == 1
    assert england[0]["region"] is None and england[0]["organisation"] is None and england[0]["local_system"] is None
    assert england[0]["denominator"] == 33867 + 22102 + 15000 + 900
    everything = listed(api, "month=2019-03")
    assert sorted((r["region"] or "ENG") for r in everything) == ["ENG", "Y56"]  # no organisation's, no system's
    assert Measurement.every_level.filter(month=dt.date(2019, 3, 1)).count() == 7


def test_a_month_that_is_not_one_is_named(api, figures):
    response = api.get("/api/v1/measurements/?month=2019-13")
    assert response.status_code == 400
    assert "Enter the month as YYYY-MM, for example 2019-03." in response.content.decode()


def test_an_ods_code_that_is_not_one_is_named(api, figures):
    response = api.get("/api/v1/measurements/?organisation=0.5")
    assert response.status_code == 400
    assert "Enter an ODS code: 3 to 10 letters and digits, like R1H." in response.content.decode()
