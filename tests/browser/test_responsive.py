"""Every page works on a phone (375 px) and on a desktop (1280 px): no sideways scrolling, and axe finds no
serious or critical problem at either width.

The pages are walked from the resources the apps declare (nhs_joint.registry), as tests/test_every_resource.py
does: each kind of record's list, page, form, new-record form and history, then the dashboards. The records are
the demonstration data (programmes/demo.py), whose long titles and full tables are what people see; a kind of
record the demonstration lacks gets one from its factory. One browser page per width is reused.
"""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from accounts.models import Role
from nhs_joint.registry import registry
from regions.models import Region
from tests import factories

from .conftest import PASSWORD, assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

WIDTHS = (375, 1280)


def record_of(resource):
    """A record of the resource: the demonstration's first, or one from its factory."""
    record = resource.queryset().order_by("pk").first()
    if record is None:
        record = getattr(factories, f"{resource.model.__name__}Factory")()
    return record


def editable_record_of(resource, user, record):
    """A record the user may change, for its form: an agreed expectation, say, is kept as agreed (a 403 is right).

    The demonstration's first such record, or one from the factory when the demonstration has none.
    """
    if not hasattr(resource.model, "edit_decision") or record.edit_decision(user):
        return record
    for candidate in resource.queryset().order_by("pk")[:200]:
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
    return list(dict.fromkeys(urls))


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


def overflow(page):
    """How far the page scrolls sideways, and the widest elements that stick out past the window."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const over = document.documentElement.scrollWidth - width;
          const wide = [];
          if (over > 0) {
            for (const el of document.querySelectorAll('body *')) {
              const box = el.getBoundingClientRect();
              if (box.right > width + 1 && box.width > 0) {
                wide.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(box.right)}`);
              }
            }
          }
          return {over, wide: wide.slice(0, 5)};
        }"""
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways_and_axe_finds_nothing_serious(browser, live_server, demo, width):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    try:
        sign_in(page, "every.page")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        problems = []
        for url in demo:
            response = page.goto(url)
            if response.status != 200:
                problems.append(f"{url}: answered {response.status}")
                continue
            sideways = overflow(page)
            if sideways["over"] > 0:
                problems.append(f"{url}: scrolls {sideways['over']} px sideways at {width} px: {sideways['wide']}")
            try:
                assert_accessible(page, f"{url} at {width} px")
            except AssertionError as failure:
                problems.append(str(failure))
        assert len(demo) > 60, demo  # every kind of record's pages were walked, not a few
        assert not problems, "\n".join(problems)
        assert not errors, "\n".join(errors)  # no script failed, nor was refused by the CSP
    finally:
        context.close()


def test_list_filters_wait_behind_a_button_on_a_phone_and_choices_narrow_as_people_type(browser, live_server, demo):
    """On a phone the results come first; the programme filter is a text box whose choices narrow."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        sign_in(page, "every.page")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
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

        wide = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        try:
            desk = wide.new_page()
            sign_in(desk, "every.page")
            desk.wait_for_url(lambda url: "/accounts/login/" not in url)
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
