"""The regional dashboard and the national overview: what they show, and queries that do not grow with the data."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.utils import bulk_create_with_history

from appointments.models import Appointment
from measures.models import Measure, Measurement, ProgrammeMeasure
from tests import factories as f

pytestmark = pytest.mark.django_db


def month(i):
    return dt.date(2018 + (3 + i) // 12, (3 + i) % 12 + 1, 1)


@pytest.fixture
def world(nhse, nhsi):
    return make_world(nhse, nhsi)


def make_world(nhse, nhsi):
    """London with its Regional Director, a programme delivered there and a member of staff."""
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    director = f.AppointmentFactory(
        role=Appointment.Role.REGIONAL_DIRECTOR,
        region=london,
        title="Regional Director, London",
        start_date=dt.date(2019, 4, 1),
        person=f.PersonFactory(name="Priya Raman"),
    )
    f.AppointmentShareFactory(appointment=director, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=director, body=nhsi, fte_percent=50)
    programme = f.ProgrammeFactory(title="Urgent care", bodies=[nhse, nhsi], accountable_body=nhse, status="active")
    f.RegionalDeliveryFactory(programme=programme, region=london, rag="amber", note="Behind in two systems.")
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    return {"london": london, "programme": programme, "director": director, "staff": staff, "nhse": nhse, "nhsi": nhsi}


def add_measures(world, n_measures, n_months):
    """``n_measures`` measures of the programme, each with ``n_months`` figures for London and for England. The
    figures are written in one statement with their history (up to 1,440 of them: one save each took most of
    the module's time), as an import writes them."""
    figures = []
    for m in range(n_measures):
        measure = f.MeasureFactory(code=f"m{m}", name=f"Measure {m}", standard=90)
        f.ProgrammeMeasureFactory(programme=world["programme"], measure=measure, target=90)
        for i in range(n_months):
            figures.append(Measurement(measure=measure, region=world["london"], month=month(i), value=80 + (i % 5)))
            figures.append(Measurement(measure=measure, region=None, month=month(i), value=85))
    bulk_create_with_history(figures, Measurement)


def body(response):
    """A page but for what each response has of its own (its nonce, its CSRF token)."""
    assert response.status_code == 200
    return re.sub(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', "", response.content.decode())


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


class TestRegionalDashboard:
    def test_it_shows_director_delivery_expectations_and_a_chart_per_measure(self, client, world):
        add_measures(world, 2, 24)
        f.ExpectationFactory(
            programme=world["programme"],
            issued_by=world["nhse"],
            region=None,
            measure=f.MeasureFactory(code="m0"),
            start_date=dt.date(2018, 4, 1),
            due_date=dt.date.today() + dt.timedelta(days=30),
        )
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/").content.decode()
        assert "Priya Raman" in html and ">Joint<" in html
        assert "NHSE 50%" in html
        assert "Urgent care" in html and ">Amber<" in html
        assert html.count("<svg") >= 2
        assert "Show the data as a table" in html
        assert "Measure 0" in html and "Measure 1" in html

    def test_a_director_not_shared_by_both_bodies_is_shown_as_not_joint(self, client, world):
        world["director"].shares.filter(body=world["nhsi"]).delete()
        world["director"].shares.update(fte_percent=100)
        client.force_login(world["staff"])
        assert ">Not joint<" in client.get("/regions/Y56/").content.decode()

    def test_only_the_regions_director_is_offered_the_delivery_update(self, client, world):
        client.force_login(world["staff"])
        assert "/regional-deliveries/" not in client.get("/regions/Y56/").content.decode()
        director = f.UserFactory(role="Regional director", bodies=[world["nhse"]], region=world["london"])
        client.force_login(director)
        assert "/regional-deliveries/" in client.get("/regions/Y56/").content.decode()

    @pytest.mark.parametrize("measures, months", [((2, 10), (12, 12)), ((4, 4), (12, 60))])
    def test_queries_do_not_grow_with_measures_or_months(self, client, world, measures, months):
        client.force_login(world["staff"])
        add_measures(world, measures[0], months[0])
        small = queries(client, "/regions/Y56/")
        ProgrammeMeasure.objects.all().delete()
        Measurement.objects.all().delete()
        Measure.objects.all().delete()
        add_measures(world, measures[1], months[1])
        assert queries(client, "/regions/Y56/") == small


class TestNationalOverview:
    def test_the_regions_side_by_side(self, client, world):
        f.RegionFactory(ods_code="Y58", name="South West", short_name="South West")
        f.RegionFactory(ods_code="Y54", name="North of England", short_name="North of England", active=False)
        ae = f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours", standard=95)
        for i in range(14):
            f.MeasurementFactory(measure=ae, region=world["london"], month=month(i), value=86 + i % 3)
        client.force_login(world["staff"])
        html = client.get("/regions/").content.decode()
        assert "London" in html and "South West" in html
        assert "North of England" not in html  # retired codes are on the list of codes, not the overview
        assert "None in post" in html  # the South West has no director recorded
        assert "A&amp;E within 4 hours" in html

    def test_queries_do_not_grow_with_regions(self, client, world):
        client.force_login(world["staff"])
        f.MeasureFactory(code="ae-4hr", standard=95)
        small = queries(client, "/regions/")
        for code in ("Y58", "Y59", "Y60", "Y61", "Y62"):
            region = f.RegionFactory(ods_code=code)
            f.RegionalDeliveryFactory(programme=world["programme"], region=region)
            director = f.AppointmentFactory(role=Appointment.Role.REGIONAL_DIRECTOR, region=region)
            f.AppointmentShareFactory(appointment=director, body=world["nhse"], fte_percent=100)
        assert queries(client, "/regions/") == small

    def test_the_list_of_every_region_code_stays_available(self, client, world):
        f.RegionFactory(ods_code="Y54", name="North of England", active=False)
        client.force_login(world["staff"])
        html = client.get("/regions/codes/").content.decode()
        assert "Y54" in html and "Y56" in html


class TestSpcApi:
    def test_the_series_limits_classification_and_icons(self, client, world):
        add_measures(world, 1, 14)
        client.force_login(world["staff"])
        data = client.get("/api/v1/measures/m0/spc/?region=Y56").json()
        assert data["measure"] == "m0" and data["region"] == "Y56"
        assert [p["month"] for p in data["points"]][:2] == ["2018-04-01", "2018-05-01"]
        assert len(data["points"]) == 14
        assert data["upper_process_limit"] > data["mean"] > data["lower_process_limit"]
        assert data["variation_icon"] and data["assurance_icon"] in {"pass", "fail", "hit_and_miss"}
        england = client.get("/api/v1/measures/m0/spc/").json()
        assert england["region"] is None and {p["value"] for p in england["points"]} == {85.0}

    def test_bad_parameters_are_named(self, client, world):
        add_measures(world, 1, 3)
        client.force_login(world["staff"])
        response = client.get("/api/v1/measures/m0/spc/?region=Q99&baseline=one")
        assert response.status_code == 400
        assert set(response.json()) == {"region", "baseline"}
        assert client.get("/api/v1/measures/none/spc/").status_code == 404

    def test_anonymous_is_refused(self, client, world):
        assert client.get("/api/v1/measures/m0/spc/").status_code == 401


def test_the_dashboard_and_overview_show_the_open_findings_of_the_latest_run(client, world):
    from reports.models import Finding, ReportRun

    old = ReportRun.objects.create(kind="consistency", status="succeeded")
    Finding.objects.create(
        run=old,
        rule="region-director",
        severity="high",
        message="An old finding",
        region=world["london"],
        records=[],
        fingerprint="a",
        records_state="s",
    )
    latest = ReportRun.objects.create(kind="consistency", status="succeeded")
    for message, suppressed in (("London has no delivery record", False), ("Decided already", True)):
        Finding.objects.create(
            run=latest,
            rule="regional-coverage",
            severity="medium",
            message=message,
            region=world["london"],
            records=[],
            fingerprint=message,
            records_state="s",
            suppressed=suppressed,
        )
    client.force_login(world["staff"])
    html = client.get("/regions/Y56/").content.decode()
    assert "London has no delivery record" in html
    assert "An old finding" not in html and "Decided already" not in html
    overview = client.get("/regions/").content.decode()
    assert 'nhsuk-table__cell--numeric">1</td>' in overview


class TestBoundedDashboard:
    """At England scale the dashboard stays bounded: a line per measure, a few charts over a window, the rest a link away."""

    def test_every_measure_has_a_line_and_only_a_few_are_charted(self, client, world):
        from dashboards.services import INLINE_CHARTS

        add_measures(world, INLINE_CHARTS + 3, 30)
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/").content.decode()
        for m in range(INLINE_CHARTS + 3):
            assert f"/regions/Y56/measures/m{m}/?months=24" in html
        assert html.count('class="portal-spc-full"') == INLINE_CHARTS  # each also drawn compact, for phones
        assert "latest 24 months" in html

    def test_the_window_is_a_bounded_choice(self, client, world):
        add_measures(world, 1, 40)
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/?months=12").content.decode()
        assert "12 months shown" in html and "40 months" not in html
        assert "40 months shown" in client.get("/regions/Y56/?months=all").content.decode()
        for bad in ("7", "abc", "9999", "-1", "24x", "ALL", "9" * 30):
            response = client.get("/regions/Y56/", {"months": bad})
            assert response.status_code == 400, bad
            html = response.content.decode()
            assert "Choose months from 12, 24, 36, 60 or every month." in html
            assert "24 months shown" in html  # the default window, drawn beside the message

    def test_queries_do_not_grow_with_the_window(self, client, world):
        from nhs_joint import parts

        add_measures(world, 3, 60)
        client.force_login(world["staff"])
        counts = []
        for months in (12, 60):
            parts.clear()  # each window counted as its region's first drawing
            counts.append(queries(client, f"/regions/Y56/?months={months}"))
        assert counts[0] == counts[1]

    @pytest.mark.usefixtures("render_every_time")
    def test_a_regions_other_windows_read_only_their_charts(self, client, world):
        """What does not depend on the window (posts, delivery, expectations, findings, agreed measures) is read
        once per region and data version: another window reads only its series, and shows what it shows when it is
        drawn alone; a committed change shows on every window at once."""
        from nhs_joint import parts

        add_measures(world, 3, 60)
        client.force_login(world["staff"])
        drawn_alone = body(client.get("/regions/Y56/?months=60"))
        parts.clear()
        first = queries(client, "/regions/Y56/?months=12")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/regions/Y56/?months=60")
        assert body(response) == drawn_alone
        read = " ".join(query["sql"] for query in captured.captured_queries)
        assert "programmes_regionaldelivery" not in read and "appointments_appointment" not in read
        assert len(captured.captured_queries) < first
        programme = f.ProgrammeFactory(title="Newly delivered here", bodies=[world["nhse"]])
        f.RegionalDeliveryFactory(programme=programme, region=world["london"], rag="red")
        for months in (12, 60):
            assert "Newly delivered here" in client.get(f"/regions/Y56/?months={months}").content.decode()

    def test_a_measures_chart_over_every_month_is_on_its_own_page(self, client, world):
        add_measures(world, 1, 40)
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/measures/m0/?months=all").content.decode()
        assert "40 months shown" in html and html.count('class="portal-spc-full"') == 1
        assert client.get("/regions/Y56/measures/m0/?months=12").status_code == 200
        assert client.get("/regions/Y56/measures/m0/?months=13").status_code == 400
        assert client.get("/regions/Y56/measures/nope/").status_code == 404

    def test_long_lists_show_their_first_rows_and_link_to_the_rest(self, client, world):
        from dashboards.services import LIST_ROWS

        for i in range(LIST_ROWS + 2):
            programme = f.ProgrammeFactory(title=f"Programme {i:03d}", bodies=[world["nhse"]])
            f.RegionalDeliveryFactory(programme=programme, region=world["london"], rag="green")
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/").content.decode()
        assert f"{LIST_ROWS + 3} programmes are delivered here" in html
        assert "/regional-deliveries/?region=Y56" in html
        assert "Programme 000" in html and f"Programme {LIST_ROWS + 1:03d}" not in html

    def test_spc_results_are_computed_once_per_data_version(self, client, world, monkeypatch):
        from regions import spc

        add_measures(world, 2, 24)
        client.force_login(world["staff"])
        calls = []
        real = spc.analyse
        monkeypatch.setattr(spc, "analyse", lambda points, **kw: calls.append(len(points)) or real(points, **kw))
        client.get("/regions/Y56/")
        first = len(calls)
        client.get("/regions/Y56/")
        assert len(calls) == first  # read from the cache
        latest = Measurement.objects.filter(measure__code="m1", region=world["london"]).order_by("-month").first()
        latest.value = 99
        latest.save()
        html = client.get("/regions/Y56/").content.decode()
        assert len(calls) == first + 1  # only the changed measure, for the changed area
        assert "99.0%" in html  # the measure's figures to its one decimal place, as everywhere else


class TestMeasurePage:
    def test_a_measures_page_shows_its_england_chart_links_each_regions_and_corrects_any_month(self, client, world):
        add_measures(world, 1, 30)
        north = f.RegionFactory(ods_code="Y54", name="North of England", short_name="North")
        client.force_login(world["staff"])
        html = client.get("/measures/m0/").content.decode()
        assert 'id="england-chart"' in html and "Measure 0, England" in html
        assert html.count('class="portal-spc-full"') == 1
        for region in (world["london"], north):
            link = f'href="/regions/{region.ods_code}/measures/m0/">Measure 0 in {region}</a>'
            assert link in html, link
        # Any month held can be corrected, not only the latest two: the first month is offered too.
        form = html[html.index('id="correct"') :]
        assert f'<option value="{month(0):%Y-%m}">{month(0):%B %Y}</option>' in form
        assert f'<option value="{month(29):%Y-%m}">{month(29):%B %Y}</option>' in form
        response = client.get("/measures/m0/correct/", {"region": "ENG", "month": f"{month(0):%Y-%m}"})
        assert response.status_code == 302 and "/measurements/" in response["Location"]


def test_a_figure_is_written_alike_in_its_row_its_chart_and_its_table(client, world):
    """One way of writing a measure's figures: the dashboard's row, its sparkline, the chart's labels, points and
    caption, the table under it and the measure's page all write 84 as "84.0%" for a measure written to one
    decimal place; never "84%" beside "84.0%". Targets keep no trailing zeros ("at least 95%", "Target 95%")."""
    measure = f.MeasureFactory(code="ae-4hr", name="A&E within 4 hours", decimal_places=1, standard=95)
    f.ProgrammeMeasureFactory(programme=world["programme"], measure=measure, target=95)
    for i in range(24):
        f.MeasurementFactory(measure=measure, region=world["london"], month=month(i), value=84)
        f.MeasurementFactory(measure=measure, region=None, month=month(i), value=84)
    client.force_login(world["staff"])
    for url in ("/regions/Y56/", "/regions/Y56/measures/ae-4hr/", "/measures/ae-4hr/"):
        html = unescape(client.get(url).content.decode())
        assert html.count('class="portal-spc-full"') == 1, url
        written = re.findall(r"(?<![\d.,])84(?:\.\d+)?%", html)
        assert len(written) > 5 and set(written) == {"84.0%"}, (url, sorted(set(written)))
        assert "95.0%" not in html, url


def test_joint_posts_and_delivery_red_first_as_the_dashboard_chooses_them(world):
    """The dashboard's joint posts are the region's current posts shared by more than one body (a post with one
    body is not joint; nor is another region's, nor an ended one), and its delivery rows are red, then
    amber, then green, each by programme title, the first LIST_ROWS of them, each with its programme and lead."""
    from dashboards.services import LIST_ROWS, region_dashboard
    from programmes.models import RegionalDelivery

    london, nhse, nhsi = world["london"], world["nhse"], world["nhsi"]
    elsewhere = f.RegionFactory(ods_code="Y58", name="South West", short_name="South West")

    def post(title, bodies, region=london, **kwargs):
        appointment = f.AppointmentFactory(title=title, region=region, **kwargs)
        for body in bodies:
            f.AppointmentShareFactory(appointment=appointment, body=body, fte_percent=100 // len(bodies))
        return appointment

    shared = post("Shared post", [nhse, nhsi])
    post("One body", [nhse])
    post("Another region's", [nhse, nhsi], region=elsewhere)
    post("Ended", [nhse, nhsi], end_date=dt.date(2019, 1, 1))
    RegionalDelivery.objects.filter(region=london).delete()
    rags = ["green", "red", "amber"] * 10
    for i, rag in enumerate(rags):
        programme = f.ProgrammeFactory(title=f"Programme {29 - i:02d}", bodies=[world["nhse"]])
        f.RegionalDeliveryFactory(programme=programme, region=london, rag=rag, lead=f.PersonFactory(name=f"Lead {i}"))

    shown = region_dashboard(london)
    assert {a.title for a in shown["joint_appointments"]} == {"Shared post", world["director"].title}
    assert shown["joint_count"] == 2 and shared in shown["joint_appointments"]
    rows = [(d.rag, d.programme.title) for d in shown["deliveries"]]
    expected = sorted(
        ((rag, f"Programme {29 - i:02d}") for i, rag in enumerate(rags)),
        key=lambda row: (["red", "amber", "green"].index(row[0]), row[1]),
    )[:LIST_ROWS]
    assert rows == expected
    assert all(d.lead.name.startswith("Lead ") for d in shown["deliveries"])
    assert shown["delivery_count"] == 30
