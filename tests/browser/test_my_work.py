"""A Regional director works a finding from My work (their home shows it too); the person who gave it is told."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports import services, workflow
from reports.models import Finding, FindingCase, ReportRun
from tests import factories as f
from tests.browser.conftest import assert_accessible, follow_header_link, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=40)
    staff = f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")
    director = f.UserFactory(
        username="jo.director",
        role="Regional director",
        bodies=[nhse],
        region=london,
        first_name="Jo",
        last_name="Director",
    )
    report = ReportRun.objects.create(kind="consistency")
    services.execute(report.pk)
    finding = Finding.objects.get(run=report, rule="appointment-shares")
    workflow.assign(finding, director, timezone.localdate() + dt.timedelta(days=7), staff)
    return {"finding": finding, "staff": staff, "director": director}


def test_a_director_follows_an_assigned_finding_from_my_work_and_the_assigner_is_told(new_page, world):
    finding = world["finding"]
    director = new_page()
    sign_in(director, "jo.director")
    expect(director.get_by_role("heading", level=1)).to_have_text("London")  # their home: their region's page
    expect(director.locator("#findings-held-table")).to_contain_text(finding.message)  # their work
    expect(director.locator("header")).to_contain_text("Notifications (1 unread)")  # the assignment
    follow_header_link(director, "My work")
    expect(director.get_by_role("heading", level=1)).to_have_text("My work")
    assert_accessible(director, "My work")
    director.get_by_role("link", name=finding.message).click()
    expect(director).to_have_url(re.compile(rf"/findings/{finding.pk}/$"))
    expect(director.locator("#case-assignee")).to_have_text("Jo Director")
    director.get_by_role("textbox", name="Comment").fill(
        "Checked with the London team: the second post is being merged into the first."
    )
    director.get_by_role("button", name="Post comment").click()
    expect(director.locator(".portal-comment-list")).to_contain_text("the second post is being merged")
    expect(director.locator(".portal-comment-list")).to_contain_text("Jo Director")
    director.get_by_label("In progress").check()
    director.get_by_role("button", name="Save progress").click()
    expect(director.locator("#case-state")).to_have_text("In progress")
    assert_accessible(director, "a finding being worked")
    assert FindingCase.objects.get(fingerprint=finding.fingerprint).state == "in_progress"

    assigner = new_page()
    sign_in(assigner, "sam.staff")
    expect(assigner.locator("header")).to_contain_text(re.compile(r"Notifications \(\d+ unread\)"))
    assigner.goto("/notifications/")
    expect(assigner.locator("#notifications")).to_contain_text("Jo Director marked in progress a finding")
    assert_accessible(assigner, "notifications")
    assigner.get_by_role("button", name="Mark all as read").click()
    expect(assigner.locator("header")).not_to_contain_text("unread")


def test_my_work_fits_a_phone(new_page, world):
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, "jo.director")
    page.goto("/my-work/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "My work on a phone")
