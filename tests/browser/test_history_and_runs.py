"""In a real Chromium: a record's history reads in words and passes axe; a report run's page follows the run
without a reload and stops asking once the run has ended."""

import datetime as dt
import threading
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from nhs_joint.history import format_datetime
from reports import services
from reports.models import ReportRun
from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

LONG = (
    "Plan urgent and emergency care for winter across all seven regions, with one set of expectations of "
    "providers and commissioners agreed by both bodies."
)


@pytest.fixture
def world(db):
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    staff = f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse, nhsi])
    programme = f.ProgrammeFactory(
        title="Urgent and emergency care",
        slug="urgent-emergency-care",
        bodies=[nhse],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
        status="proposed",
        description=LONG,
    )
    return {"nhse": nhse, "nhsi": nhsi, "staff": staff, "programme": programme}


def test_history_reads_in_words_and_passes_axe(new_page, world):
    director = f.AppointmentFactory(person=f.PersonFactory(name="Alex Jones"), title="Director of urgent care")
    page = new_page()
    sign_in(page, "sam.staff", next_path="/programmes/urgent-emergency-care/edit/")
    page.get_by_label("Title").fill("Urgent and emergency care all year")
    page.get_by_label("Description").fill(LONG.replace("for winter", "all year round"))
    page.get_by_label("NHS Improvement").check()
    page.get_by_label("Status").select_option(label="Approved")
    # A long list is a type-to-search box: type part of the name, then pick it.
    page.get_by_role("combobox", name="Senior responsible owner").fill("Alex")
    page.get_by_role("option", name=str(director)).click()
    page.locator("#id_end_date-day").fill("31")
    page.locator("#id_end_date-month").fill("3")
    page.locator("#id_end_date-year").fill("2020")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Urgent and emergency care all year")

    page.get_by_role("link", name="History").click()
    table = page.locator("table")
    expect(table).to_contain_text("Title: from “Urgent and emergency care” to “Urgent and emergency care all year”")
    expect(table).to_contain_text("Status: from “Proposed” to “Approved”")
    expect(table).to_contain_text("Senior responsible owner: set to “Alex Jones: Director of urgent care”")
    expect(table).to_contain_text("End date: set to “31 March 2020”")
    expect(table).to_contain_text("Bodies: added NHS Improvement")
    expect(table.locator("del")).to_have_text("[removed: for winter]")
    expect(table.locator("ins")).to_have_text("[added: all year round]")
    expect(table.get_by_role("link", name="Alex Jones: Director of urgent care")).to_have_attribute(
        "href", f"/appointments/{director.pk}/"
    )
    # The marks are not told by colour alone: the words "added" and "removed" are there, hidden from sight.
    assert table.locator("ins .nhsuk-u-visually-hidden").first.inner_text().startswith("[added:")
    assert_accessible(page, "history in words")

    # On a phone the table scrolls in its own region instead of widening the page.
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        # Laid out again at the new width (a loaded machine may take a moment).
        page.wait_for_function("document.documentElement.scrollWidth <= 360", timeout=10_000)
    except Exception:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 361)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        pytest.fail(f"the history page is wider than a phone: {wide}")
    assert_accessible(page, "history on a phone")


@pytest.fixture
def run_world(world):
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=world["nhse"], fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=world["nhsi"], fte_percent=40)
    return world


# How often a run's page asks for its state (static/portal/reports.js).
REFRESH_MS = 2000


def open_run_page(new_page, run):
    page = new_page()
    asked = []
    page.on(
        "request",
        lambda request: asked.append(request.url) if request.url.endswith(f"/reports/{run.pk}/progress/") else None,
    )
    page.clock.install()  # the page's timers, moved on by the test when it means to skip a wait
    sign_in(page, "sam.staff", next_path=f"/reports/{run.pk}/")  # signed in, the run's page
    page.wait_for_url(lambda url: urlsplit(url).path == f"/reports/{run.pk}/")
    page.evaluate("window.portalNotReloaded = true")
    return page, asked


def field(page, name):
    return page.locator(f'[data-run-field="{name}"]')


def next_ask(page):
    """The page's next ask for its run's state, now: its timer (every two seconds) moved on to when it is due."""
    page.clock.run_for(REFRESH_MS)


def test_the_run_page_follows_the_run_and_stops_asking_when_it_ends(new_page, run_world, settings, monkeypatch):
    run = ReportRun.objects.create(kind="consistency", requested_by=run_world["staff"])
    page, asked = open_run_page(new_page, run)
    expect(field(page, "status")).to_have_text("Queued")
    expect(field(page, "started")).to_have_text("Not yet")
    expect(field(page, "finished")).to_have_text("Not yet")

    # A worker takes the run: here, in this process, while the page is open. It waits before each rule (the pause
    # REPORT_RULE_DELAY asks for) until the test has seen the page follow the run while it runs, then runs on.
    settings.REPORT_RULE_DELAY = 1.0
    running, seen_running = threading.Event(), threading.Event()

    def pause_before_a_rule(seconds):
        running.set()  # the run is marked running (and committed) before its first rule
        seen_running.wait(timeout=60)

    monkeypatch.setattr(services, "time", SimpleNamespace(sleep=pause_before_a_rule))

    def work():
        try:
            services.execute(run.pk, worker="browser-test")
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert running.wait(timeout=15), "the worker did not start the run"
        next_ask(page)
        expect(field(page, "status")).to_have_text("Running", timeout=15_000)
        run.refresh_from_db()
        expect(field(page, "started")).to_have_text(format_datetime(run.started))
        expect(field(page, "finished")).to_have_text("Not yet")
        expect(page.locator("#run-progress")).to_contain_text("This page updates by itself")
    finally:
        seen_running.set()
        worker.join(timeout=60)
    run.refresh_from_db()
    assert run.status == "succeeded"

    next_ask(page)
    expect(field(page, "status")).to_have_text("Succeeded", timeout=15_000)
    expect(field(page, "finished")).to_have_text(format_datetime(run.finished))
    expect(field(page, "started")).to_have_text(format_datetime(run.started))
    expect(field(page, "progress")).to_have_text("100%")
    expect(page.locator("#run-progress")).to_contain_text("total 90%, not 100%")
    expect(page.locator("#run-announcement")).to_have_text("The report has finished. Status: Succeeded.")
    assert page.evaluate("window.portalNotReloaded") is True

    # Then it stops asking.
    seen = len(asked)
    assert seen >= 2
    page.clock.run_for(60_000)  # a minute of the page's timers, at once
    page.evaluate("0")  # a round trip: any request those timers made has been reported
    assert len(asked) == seen, asked
    assert_accessible(page, "finished run")


def test_a_failed_run_is_shown_and_no_longer_asked_about(new_page, run_world):
    started = timezone.now() - dt.timedelta(minutes=5)
    run = ReportRun.objects.create(kind="duplication", status="running", started=started, progress=30)
    page, asked = open_run_page(new_page, run)
    expect(field(page, "status")).to_have_text("Running")
    expect(field(page, "started")).to_have_text(format_datetime(started))
    expect(page.locator("progress")).to_have_attribute("value", "30")
    assert_accessible(page, "running run")

    ReportRun.objects.filter(pk=run.pk).update(progress=60)
    next_ask(page)
    expect(field(page, "progress")).to_have_text("60%")
    expect(page.locator("progress")).to_have_attribute("value", "60")

    services.fail(run.pk, "The worker stopped answering. No findings were saved; run the report again.")
    run.refresh_from_db()
    next_ask(page)
    expect(field(page, "status")).to_have_text("Failed")
    expect(field(page, "finished")).to_have_text(format_datetime(run.finished) or "Not recorded")
    expect(page.locator("#run-progress")).to_contain_text("The report failed")
    assert page.evaluate("window.portalNotReloaded") is True
    seen = len(asked)
    page.clock.run_for(60_000)  # a minute of the page's timers, at once
    page.evaluate("0")  # a round trip: any request those timers made has been reported
    assert len(asked) == seen
