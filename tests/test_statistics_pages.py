"""An organisation's and a local health system's pages: each agreed measure's chart of their own figures, in a
number of queries that grows with neither the measures nor the months; the regional dashboard likewise."""

import datetime as dt
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measures.statistics_import import import_statistics
from tests import factories as f
from tests.test_statistics_import import london, march  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("render_every_time")]

PERIODS = [dt.date(2016 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(36)]  # April 2016 to March 2019


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


def import_months(months):
    for month in months:
        period = f"MSitAE-{month:%B}-{month:%Y}".upper().replace("MSITAE", "MSitAE")
        over = str(2000 + 100 * (month.month % 5))
        import_statistics([(f"{period}.csv", march(barts_over=(over, "11", "6"), period=period))], "ae")


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), unescape(response.content.decode())


def test_an_organisations_page_charts_its_own_figures_in_constant_queries(client, staff, london):  # noqa: F811
    ae = f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", unit="percent", standard=95)
    f.ProgrammeMeasureFactory(measure=ae)
    barts = london.organisations.get(ods_code="R1H")
    system = barts.local_system
    client.force_login(staff)
    import_months(PERIODS[:3])
    few, html = count_queries(client, barts.get_absolute_url())
    few_system, system_html = count_queries(client, system.get_absolute_url())
    assert 'id="figures-panel"' in html and "Barts Health NHS Trust's own figures" in html
    assert 'id="figures-ae-4hr"' in html and "A&E attendances seen within 4 hours, Barts Health NHS Trust" in html
    assert "(Jun 2016)" in html  # the latest of the three months
    assert 'id="figures-ae-4hr"' in system_html
    # Another agreed measure (no figures of it for Barts), and 33 more months.
    f.ProgrammeMeasureFactory(measure=f.MeasureFactory(code="rtt-18wk", name="Referral to treatment"))
    import_months(PERIODS[3:])
    many, html = count_queries(client, barts.get_absolute_url())
    many_system, _ = count_queries(client, system.get_absolute_url())
    assert "(Mar 2019)" in html and "Referral to treatment" not in html
    assert (many, many_system) == (few, few_system)


def test_the_regional_dashboard_keeps_its_queries_and_its_figures_with_organisations_figures(client, staff, london):  # noqa: F811
    ae = f.MeasureFactory(code="ae-4hr", name="A&E attendances seen within 4 hours", unit="percent", standard=95)
    f.RegionalDeliveryFactory(region=london, programme=f.ProgrammeMeasureFactory(measure=ae).programme)
    client.force_login(staff)
    import_months(PERIODS[:3])
    url = f"/regions/{london.ods_code}/"
    few, _ = count_queries(client, url)
    import_months(PERIODS[3:])
    many, html = count_queries(client, url)
    assert many == few
    # The region's chart is London's own figures (36 of them), never its trusts' or systems'.
    assert "(Mar 2019)" in html
