"""A region's dashboard summary first, and its Board pack as a PDF read back with pdftotext."""

import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measures.models import Measure, Measurement, ProgrammeMeasure
from nhs_joint import parts
from tests import factories as f
from tests.test_dashboards import add_measures, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(nhse, nhsi):
    return make_world(nhse, nhsi)


def pdf_text(data, tmp_path):
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pack_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return len(ctx.captured_queries)


class TestSummaryFirst:
    def test_every_measure_has_one_line_with_its_latest_value_icons_and_sparkline(self, client, world):
        add_measures(world, 3, 30)
        client.force_login(world["staff"])
        html = client.get("/regions/Y56/").content.decode()
        # The summary comes before everything else the dashboard shows.
        assert html.index('id="measures"') < html.index('id="director"') < html.index('id="charts"')
        assert html.count('class="portal-sparkline"') == 3
        # month(29) is September 2020, value 80 + 29 % 5 = 84
        # The sparkline writes its figures as the summary does, with the measure's decimal places.
        assert 'aria-label="Measure 2: 24 months, from 81.0% in October 2018 to 84.0% in September 2020"' in html
        # The summary writes the figure with the measure's decimal places.
        assert "84.0% <span" in html and "(Sep 2020)" in html
        assert html.count('href="/regions/Y56/measures/m') >= 3
        assert '/regions/Y56/board-pack.pdf?months=24"' in html

    def test_the_window_changes_the_span_of_the_sparklines_and_charts(self, client, world):
        add_measures(world, 1, 40)
        client.force_login(world["staff"])
        short = client.get("/regions/Y56/?months=12").content.decode()
        every = client.get("/regions/Y56/?months=all").content.decode()
        assert "Measure 0: 12 months, from" in short and "12 months shown" in short
        assert "Measure 0: 40 months, from" in every and "40 months shown" in every
        assert '/regions/Y56/board-pack.pdf?months=all"' in every
        assert '<option value="all" selected>' in every


@pytest.mark.slow
class TestBoardPack:
    def test_the_pdf_names_the_region_director_and_every_measures_latest_value(self, client, world, tmp_path):
        add_measures(world, 3, 30)
        client.force_login(world["staff"])
        response = client.get("/regions/Y56/board-pack.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        disposition = response["Content-Disposition"]
        assert disposition.startswith('attachment; filename="london-region-board-pack-')
        assert disposition.endswith('.pdf"')
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content, tmp_path)
        assert "London region" in text
        assert "Priya Raman" in text
        assert "The latest 24 months with figures" in text
        for m in range(3):
            line = next((row for row in text.splitlines() if row.strip().startswith(f"Measure {m} ")), "")
            assert "84.0%" in line and "September 2020" in line, (m, line)
        # Each measure's chart follows the summary, with its description in words (its figures written alike).
        assert text.count("Latest value 84.0% in September 2020; 24 months shown.") == 3

    def test_the_pack_has_each_measures_target_the_regions_rag_and_its_open_findings(self, client, world, tmp_path):
        add_measures(world, 2, 24)
        run = f.ReportRunFactory()
        f.FindingFactory(run=run, region=world["london"], message="London's delivery of Winter has no joint lead.")
        f.FindingFactory(run=run, region=None, severity="medium", message="The 95% and 90% A&E asks conflict.")
        f.FindingFactory(run=run, region=f.RegionFactory(), message="A finding about another region only.")
        client.force_login(world["staff"])
        text = pdf_text(client.get("/regions/Y56/board-pack.pdf").content, tmp_path)
        flat = " ".join(text.split())
        for m in range(2):
            line = next(row for row in text.splitlines() if row.strip().startswith(f"Measure {m} "))
            assert "at least 90%" in line and "83.0%" in line, line  # month(23), March 2020: 80 + 23 % 5
        assert "1 programme delivered here: 0 red, 1 amber, 0 green." in flat
        assert "2 open findings of the latest reports concern London or England as a whole" in flat
        assert "London's delivery of Winter has no joint lead." in flat and "A&E asks conflict" in flat
        assert flat.index("no joint lead") < flat.index("A&E asks conflict")  # the most severe first
        assert "another region only" not in flat
        assert ">=" not in text and "90.00" not in text

    def test_the_packs_file_is_named_from_the_regions_own_name(self):
        from dashboards.views import pack_file_stem
        from regions.models import Region

        assert pack_file_stem(Region(name="London", ods_code="Y56")) == "london-region"
        assert pack_file_stem(Region(name="London Commissioning Region", ods_code="Y56")) == (
            "london-commissioning-region"
        )
        assert pack_file_stem(Region(name="London Commissioning Region", short_name="London", ods_code="Y56")) == (
            "london-region"
        )

    def test_the_months_chosen_apply_to_the_pack(self, client, world, tmp_path):
        add_measures(world, 1, 40)
        client.force_login(world["staff"])
        text = pdf_text(client.get("/regions/Y56/board-pack.pdf?months=12").content, tmp_path)
        assert "12 months shown" in text and "The latest 12 months with figures" in text
        text = pdf_text(client.get("/regions/Y56/board-pack.pdf?months=all").content, tmp_path)
        assert "40 months shown" in text and "Every month held" in text

    @pytest.mark.parametrize("bad", ["abc", "9999", "13", ""])
    def test_a_bad_window_shows_the_dashboard_with_a_message_never_an_error(self, client, world, bad):
        add_measures(world, 1, 12)
        client.force_login(world["staff"])
        response = client.get("/regions/Y56/board-pack.pdf", {"months": bad})
        if bad == "":  # no choice: the default window
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
            return
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "Choose months from 12, 24, 36, 60 or every month." in response.content.decode()

    def test_a_region_without_measures_or_director_still_has_a_pack(self, client, world, tmp_path):
        world["director"].delete()
        client.force_login(world["staff"])
        text = pdf_text(client.get("/regions/Y56/board-pack.pdf").content, tmp_path)
        assert "London region" in text and "None in post" in text
        assert "No measures are agreed" in text

    def test_a_pack_is_made_once_per_data_version_and_a_corrected_figure_makes_a_new_one(
        self, client, world, tmp_path, monkeypatch
    ):
        from django.core.cache import cache

        from dashboards import services, views

        add_measures(world, 2, 24)
        cache.delete(services.pack_key(world["london"], services.region_pack(world["london"])))  # an earlier run's
        client.force_login(world["staff"])
        made = []
        real = views.render_pdf
        monkeypatch.setattr(views, "render_pdf", lambda html, css="": made.append(html) or real(html, css))
        first = client.get("/regions/Y56/board-pack.pdf").content
        assert client.get("/regions/Y56/board-pack.pdf").content == first
        assert len(made) == 1  # the second download is the pack already made
        latest = Measurement.objects.filter(measure__code="m1", region=world["london"]).order_by("-month").first()
        latest.value = 77
        latest.save()
        corrected = client.get("/regions/Y56/board-pack.pdf").content
        assert len(made) == 2
        assert "77.0%" in pdf_text(corrected, tmp_path) and "77.0%" not in pdf_text(first, tmp_path)

    def test_signing_in_is_needed(self, client, world):
        response = client.get("/regions/Y56/board-pack.pdf")
        assert response.status_code in (302, 401, 403)
        assert not response.content.startswith(b"%PDF")

    def test_queries_do_not_grow_with_measures_or_months(self, client, world):
        client.force_login(world["staff"])
        add_measures(world, 2, 12)
        small = pack_queries(client, "/regions/Y56/board-pack.pdf?months=12")
        ProgrammeMeasure.objects.all().delete()
        Measurement.objects.all().delete()
        Measure.objects.all().delete()
        add_measures(world, 4, 36)
        assert pack_queries(client, "/regions/Y56/board-pack.pdf?months=36") == small
        assert pack_queries(client, "/regions/Y56/board-pack.pdf?months=12") == small


def test_the_dashboard_queries_are_the_same_for_12_and_36_months_and_every_month(client, world):
    add_measures(world, 3, 40)
    f.ExpectationFactory(programme=world["programme"], issued_by=world["nhse"], region=world["london"])
    client.force_login(world["staff"])
    counts = set()
    for months in ("12", "36", "all"):
        parts.clear()  # each window counted as its region's first drawing (its other windows reuse the region's facts)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/regions/Y56/", {"months": months}).status_code == 200
        counts.add(len(ctx.captured_queries))
    assert len(counts) == 1, counts
