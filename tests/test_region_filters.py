"""Region filters show a region's own records with those for all of England, unless asked for only its own.

A London director filtering workstreams by London must not miss the national ones: a workstream with no
region, an expectation with no area, a national post, an England finding all apply to London too.
"""

import re

import pytest

from tests import factories as f
from tests.test_api import API, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    midlands = f.RegionFactory(ods_code="Y60", name="Midlands", short_name="Midlands")
    programme = f.ProgrammeFactory(title="Winter", slug="winter", bodies=[nhse, nhsi], accountable_body=nhse)
    director = f.UserFactory(role="Regional director", bodies=[nhse], region=london)
    workstreams = {
        "ws_london": f.WorkstreamFactory(programme=programme, title="London discharge", body=nhse, regions=[london]),
        "ws_both": f.WorkstreamFactory(programme=programme, title="Shared beds", body=nhse, regions=[london, midlands]),
        "ws_national": f.WorkstreamFactory(programme=programme, title="National flu campaign", body=nhse, regions=[]),
        "ws_midlands": f.WorkstreamFactory(programme=programme, title="Midlands triage", body=nhse, regions=[midlands]),
    }
    return {"london": london, "midlands": midlands, "director": director, "programme": programme, **workstreams}


def option(html, value, text):
    """The attributes of the <option> of ``value`` showing ``text``, or None when there is none."""
    found = re.search(rf'<option value="{re.escape(value)}"([^>]*)>\s*{re.escape(text)}\s*</option>', html)
    return found.group(1).strip() if found else None


def listed_titles(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    return set(re.findall(r'<a class="nhsuk-link" href="/workstreams/\d+/">([^<]+)</a>', html)), html


def test_a_london_directors_london_filter_includes_england_wide_workstreams(client, world):
    client.force_login(world["director"])
    titles, html = listed_titles(client, "/workstreams/?region=Y56")
    assert titles == {"London discharge", "Shared beds", "National flu campaign"}
    # The choice is named for the region chosen, and the default is checked.
    assert re.search(r'value="with_england"\s+checked', html)
    assert "London and England-wide" in html and "Only London&#39;s own" in html

    own, html = listed_titles(client, "/workstreams/?region=Y56&region_scope=own")
    assert own == {"London discharge", "Shared beds"}
    assert re.search(r'value="own"\s+checked', html)

    # ENG, as bookmarked links have it, picks the England-wide ones alone; any case is read.
    england, _ = listed_titles(client, "/workstreams/?region=eng")
    assert england == {"National flu campaign"}
    # Two regions: each region's own, once, and England-wide.
    both, _ = listed_titles(client, "/workstreams/?region=Y56&region=Y60&region_scope=own")
    assert both == {"London discharge", "Shared beds", "Midlands triage"}
    everything, _ = listed_titles(client, "/workstreams/")
    assert everything == {"London discharge", "Shared beds", "National flu campaign", "Midlands triage"}


def test_the_api_filters_regions_the_same_way(world):
    api = client_for(world["director"])

    def titles(query):
        response = api.get(f"{API}/workstreams/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["title"] for row in response.json()["results"])

    assert titles("region=Y56") == ["London discharge", "National flu campaign", "Shared beds"]
    assert titles("region=Y56&region_scope=own") == ["London discharge", "Shared beds"]
    assert titles("region=ENG") == ["National flu campaign"]
    bad = api.get(f"{API}/workstreams/?region=Y56&region_scope=nowhere")
    assert bad.status_code == 400 and "region_scope" in bad.json()


def test_other_lists_with_a_region_filter_include_england_wide_records(client, world, nhse):
    london, midlands = world["london"], world["midlands"]
    mine = f.ExpectationFactory(programme=world["programme"], issued_by=nhse, region=london)
    national = f.ExpectationFactory(programme=world["programme"], issued_by=nhse, region=None)
    other = f.ExpectationFactory(programme=world["programme"], issued_by=nhse, region=midlands)
    api = client_for(world["director"])

    def ids(resource, query):
        response = api.get(f"{API}/{resource}/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("expectations", "region=Y56") == {mine.pk, national.pk}
    assert ids("expectations", "region=Y56&region_scope=own") == {mine.pk}
    assert other.pk in ids("expectations", "region=Y60")

    regional_post = f.AppointmentFactory(region=london)
    national_post = f.AppointmentFactory(region=None)
    assert {regional_post.pk, national_post.pk} <= ids("appointments", "region=Y56")
    assert national_post.pk not in ids("appointments", "region=Y56&region_scope=own")

    london_finding = f.FindingFactory(region=london)
    england_finding = f.FindingFactory(region=None)
    assert ids("findings", "region=Y56") == {london_finding.pk, england_finding.pk}
    assert ids("findings", "region=Y56&region_scope=own") == {london_finding.pk}

    # The page agrees with the API.
    client.force_login(world["director"])
    page = client.get("/expectations/?region=Y56").content.decode()
    assert f'href="/expectations/{national.pk}/"' in page and f'href="/expectations/{other.pk}/"' not in page


def test_filters_are_choices_by_name_and_old_links_still_work(client, world, nhse):
    client.force_login(world["director"])
    html = client.get("/workstreams/").content.decode()
    assert "(slug)" not in html and "---------" not in html
    assert 'data-module="autocomplete"' in html and ">Any programme<" in html
    assert option(html, "winter", "Winter") == ""
    # Regions and bodies are checkboxes, by name.
    assert re.search(r'type="checkbox" value="Y56"[^>]*>\s*<label[^>]*>\s*London', html)
    # A bookmarked ?programme=<slug> (any case) and ?body=<code> still filter.
    other = f.ProgrammeFactory(title="Cancer", slug="cancer", bodies=[nhse], accountable_body=nhse)
    f.WorkstreamFactory(programme=other, title="Screening", body=nhse)
    titles, html = listed_titles(client, "/workstreams/?programme=WINTER&body=NHSE")
    assert titles == {"London discharge", "Shared beds", "National flu campaign", "Midlands triage"}
    assert option(html, "winter", "Winter") == "selected"
    titles, _ = listed_titles(client, "/workstreams/?programme=cancer")
    assert titles == {"Screening"}
    # An unknown programme is a message naming the field, not a 500 or every row.
    response = client.get("/workstreams/?programme=no-such-programme")
    assert response.status_code == 400 and "Select a programme from the list" in response.content.decode()


def test_people_and_themes_are_chosen_by_name(client, world, nhse):
    person = f.PersonFactory(name="Ada Lovelace", email="ada@example.nhs.uk")
    post = f.AppointmentFactory(person=person, title="Director of analysis")
    f.AppointmentFactory(title="Someone else's post")
    client.force_login(world["director"])
    html = client.get("/appointments/").content.decode()
    assert "(email)" not in html and option(html, "ada@example.nhs.uk", "Ada Lovelace") == ""
    page = client.get("/appointments/?person=ADA@example.nhs.uk").content.decode()
    assert f'href="/appointments/{post.pk}/"' in page and "Someone else" not in page

    f.ProgrammeFactory(title="Flow", slug="flow", theme="urgent-care", bodies=[nhse], accountable_body=nhse)
    html = client.get("/programmes/?theme=Urgent-Care").content.decode()
    assert "Urgent and emergency care" in html and ">urgent-care<" not in html
    assert option(html, "urgent-care", "Urgent and emergency care") == "selected"


@pytest.mark.usefixtures("render_every_time")
def test_a_filtered_list_costs_the_same_queries_with_more_rows(client, world, nhse):
    from tests.test_query_counts import count_queries

    client.force_login(world["director"])
    url = "/workstreams/?region=Y56&programme=WINTER&body=NHSE&q=&region_scope=with_england"

    def add(n):
        for i in range(n):
            regions = [world["london"]] if i % 2 else []
            f.WorkstreamFactory(programme=world["programme"], body=nhse, regions=regions)

    add(4)
    few = count_queries(client, url)
    add(40)
    assert count_queries(client, url) == few
