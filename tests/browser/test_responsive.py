"""Every page works on every screen from a small phone to a wide desktop (320, 375, 768, 1280 and 1920 px).

At each width (tests/browser/layout.js): the page never scrolls sideways; no box that scrolls sideways holds
something wider than itself unless it shows its cue to scroll (a shadow and "Scroll sideways to see every
column"); no text is drawn smaller than 12px, a chart's included; the header, the content and the footer are one
width. At 375 and 1280 px axe finds no serious or critical problem, and on a phone the first result of every list
is within the first screen after its filter button (the filters wait, closed, behind it).

The pages are walked from the resources the apps declare (nhs_joint.registry), as tests/test_every_resource.py
does: each kind of record's list, page, form, new-record form and history, then the dashboards and the pages
around them. The records are the demonstration data (programmes/demo.py), seeded once, whose long titles and
full tables are what people see; a kind of record the demonstration lacks gets one from its factory. Each page is
loaded at 375 px and resized to the other widths; a list is loaded again at 1280 px (LOADS below).
"""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from accounts.models import Role
from nhs_joint.registry import registry
from regions.models import Region
from tests import factories

from .conftest import PASSWORD, assert_accessible, sign_in, with_axe

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    pytest.mark.slow,
    # The walk is the longest browser test (minutes): in a group of its own it runs on one worker while the other
    # browser tests run on the other, instead of after them (tests/conftest.py).
    pytest.mark.xdist_group("browser-responsive"),
]

WIDTHS = (320, 375, 768, 1280, 1920)
AXE_WIDTHS = (375, 1280)
# Each page is loaded at 375 px and checked at the other widths by resizing the window, as a person turning a
# tablet does: the stylesheets' media queries apply at once, and the scripts that lay out by width (the header's
# "More" menu, the tables' scroll cue, the design system's tabs) follow the window's resize events. One script
# reads the width only when the page loads: a list's filters, open beside the results from 61.875em, closed above
# them below it (static/portal/filters.js). A page with those filters is loaded again at 1280 px for 1280 and
# 1920 px, as a person on a desktop first sees it; any other page is resized on from 768 px.
LOADS = {375: (375, 320, 768), 1280: (1280, 1920)}
assert sorted(width for widths in LOADS.values() for width in widths) == sorted(WIDTHS)
FIRST_LOAD = 375
# What makes a page loaded at 375 px differ from the same page loaded at 1280 px, other than its width.
SET_AS_IT_LOADS = "() => document.querySelector('details[data-portal-filters]') !== null"
LAYOUT = (Path(__file__).parent / "layout.js").read_text()
# Resizing the window to a width: resolves once the window has it and two animation frames have passed with no
# resize event (the header moves what no longer fits behind "More" in the frame after a resize event, and its own
# change of size sends another); false if that has not happened after a second's worth of frames.
RESIZED = """async (width) => {
  let quiet = 0;
  const noisy = () => { quiet = 0; };
  window.addEventListener('resize', noisy);
  try {
    for (let i = 0; i < 60; i++) {
      await new Promise((done) => requestAnimationFrame(() => done()));
      quiet += 1;
      if (window.innerWidth === width && quiet >= 2) return true;
    }
    return false;
  } finally {
    window.removeEventListener('resize', noisy);
  }
}"""


def record_of(resource):
    """A record of the resource: the demonstration's first, or one from its factory."""
    record = resource.list.queryset().order_by("pk").first()
    if record is None:
        record = getattr(factories, f"{resource.model.__name__}Factory")()
    return record


def editable_record_of(resource, user, record):
    """A record the user may change, for its form: an agreed expectation, say, is kept as agreed (a 403 is right).

    The demonstration's first such record, or one from the factory when the demonstration has none.
    """
    if not hasattr(resource.model, "edit_decision") or record.edit_decision(user):
        return record
    for candidate in resource.list.queryset().order_by("pk")[:200]:
        if candidate.edit_decision(user):
            return candidate
    return getattr(factories, f"{resource.model.__name__}Factory")()


def pages_to_walk(user):
    """The address of every list, record page, form and history page, then the dashboards."""
    urls = []
    for resource in sorted(registry.declared_resources(), key=lambda r: r.name):
        record = record_of(resource)
        key = getattr(record, resource.lookup)
        editable = getattr(editable_record_of(resource, user, record), resource.lookup)
        urls += [resource.list_url(), reverse(f"{resource.name}-detail", args=[key])]
        for name, args in (("edit", [editable]), ("history", [key]), ("create", [])):
            try:
                urls.append(reverse(f"{resource.name}-{name}", args=args))
            except NoReverseMatch:
                pass
    london = Region.objects.get(ods_code="Y56")
    measure = london.measurements.select_related("measure").order_by("pk").first().measure
    urls += ["/", reverse("region-overview"), f"/regions/{london.ods_code}/"]
    urls.append(reverse("region-measure-chart", kwargs={"key": london.ods_code, "code": measure.code}))
    urls += [reverse(name) for name in ("my-work", "glossary", "service-status", "your-tokens", "api-docs")]
    urls += [reverse("search") + "?q=london", "/notifications/", "/consultations/", "/measurements/import/"]
    return list(dict.fromkeys(urls))


def list_pages():
    return sorted({resource.list_url() for resource in registry.declared_resources()})


@pytest.fixture
def demo(nhse, nhsi):
    call_command("seed_demo", password=PASSWORD, stdout=io.StringIO())
    user = factories.UserFactory(
        username="every.page",
        role=Role.STAFF,
        bodies=[nhse, nhsi],
        region=Region.objects.get(ods_code="Y56"),
    )
    user.groups.add(*Group.objects.filter(name__in=[Role.REGIONAL_DIRECTOR, Role.ADMINISTRATOR]))
    return pages_to_walk(user)


def first_result_after_the_filter_button(page):
    """How far below the top of the list's filter button its first result (or its "no results" line) ends."""
    return page.evaluate(
        """() => {
          const button = document.querySelector('details[data-portal-filters] > summary');
          const first = document.querySelector('.portal-list__results tbody tr')
            || document.querySelector('.portal-list__results .portal-count');
          if (!button || !first) return null;
          return first.getBoundingClientRect().bottom - button.getBoundingClientRect().top;
        }"""
    )


def signed_in_state(browser, live_server):
    """The cookies of "every.page" signed in through the form once: each browser of the walk starts with them."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, "every.page")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return context.storage_state()
    finally:
        context.close()


def test_every_page_fits_every_screen_and_axe_finds_nothing_serious(browser, live_server, demo):
    lists = list_pages()
    assert len(demo) > 60, demo  # every kind of record's pages are walked, not a few
    signed_in = signed_in_state(browser, live_server)
    problems, errors, loaded_again = [], [], set()
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": FIRST_LOAD, "height": 800}, storage_state=signed_in
    )
    context.set_default_timeout(20_000)
    with_axe(context)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    try:
        for url in demo:
            for loaded_at, widths in LOADS.items():
                # A page without what is set as it loads is resized on from the page loaded at 375 px.
                if loaded_at == FIRST_LOAD or page.evaluate(SET_AS_IT_LOADS):
                    failed = load(page, url, loaded_at)
                    if failed:
                        problems += failed
                        break
                    if loaded_at != FIRST_LOAD:
                        loaded_again.add(url)
                for width in widths:
                    problems += check_at(page, url, width, lists)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert not errors, "\n".join(errors)  # no script failed, nor was refused by the CSP
    # Every list was seen as it first draws on a desktop, its filters open: none was only resized to 1280 px.
    assert loaded_again == set(lists) & set(demo), sorted(set(lists) ^ loaded_again)
    # On the same data (seeded once): the filters of a list, on a phone and on a desktop.
    filters_wait_behind_a_button_on_a_phone_and_choices_narrow_as_people_type(browser, live_server, signed_in)


def load(page, url, width):
    """Loads the page at ``width`` px: what is wrong if it does not answer, or asks to sign in."""
    page.set_viewport_size({"width": width, "height": 800})
    response = page.goto(url)  # returns once the page has loaded (its "load" event)
    if response.status != 200:
        return [f"{url}: answered {response.status}"]
    if "/accounts/login/" in page.url:  # the cookies of the one sign-in were not taken
        return [f"{url}: asked to sign in"]
    return []


def check_at(page, url, width, lists):
    """What is wrong with the loaded page at ``width`` px: its layout, axe's findings, where a list's results start."""
    if page.viewport_size["width"] != width:
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate(RESIZED, width), f"{url}: the page did not settle at {width} px"
    problems = [f"{url} at {width} px: {problem}" for problem in page.evaluate(LAYOUT)]
    # Swagger UI's own controls (nested buttons in its operation summaries) are the widget's, not
    # the portal's: the API documentation page is walked for its layout, not by axe.
    if width in AXE_WIDTHS and url != reverse("api-docs"):
        try:
            assert_accessible(page, f"{url} at {width} px")
        except AssertionError as failure:
            problems.append(str(failure))
    if width == 375 and url in lists:
        below = first_result_after_the_filter_button(page)
        if below is None or below > 800:
            problems.append(f"{url} at 375 px: the first result ends {below} px below the filter button")
    return problems


def filters_wait_behind_a_button_on_a_phone_and_choices_narrow_as_people_type(browser, live_server, signed_in):
    """On a phone the results come first; the programme filter is a text box whose choices narrow."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 800}, storage_state=signed_in
    )
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto("/workstreams/")
        filters = page.locator("details[data-portal-filters]")
        assert not filters.evaluate("d => d.open")
        table_top = page.locator("table.portal-table").bounding_box()["y"]
        assert table_top < 900, "the results start within the first screen"
        # Each value says which column it is in.
        assert page.locator("tbody tr").first.locator(".nhsuk-table-responsive__heading").first.is_visible()
        page.get_by_text("Filter workstreams").click()
        box = page.get_by_role("combobox", name="Programme")
        box.fill("cancer")
        option = page.get_by_role("option").filter(has_text="Cancer").first
        option.click()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(lambda url: "programme=cancer" in url)
        assert "1 applied" in page.locator("details[data-portal-filters] summary").inner_text()

        wide = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, storage_state=signed_in
        )
        try:
            desk = wide.new_page()
            desk.goto("/workstreams/")
            assert desk.locator("details[data-portal-filters]").evaluate("d => d.open")
            filters_box = desk.locator("details[data-portal-filters]").bounding_box()
            table_box = desk.locator("table.portal-table").bounding_box()
            assert filters_box["x"] < table_box["x"], "on a desktop the filters sit beside the results"
            assert table_box["x"] + table_box["width"] <= 1280
        finally:
            wide.close()
    finally:
        context.close()
