"""Each role's home in a browser: what needs them first, the navigation at 1280 px, and no accessibility faults."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from reports import services, workflow
from reports.models import Finding, FindingCase, ReportRun
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STAFF_FIRST = ["My work", "Programmes", "Workstreams", "Expectations", "Findings", "Regions", "Reports"]


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=40)
    staff = f.UserFactory(username="sam.staff", role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")
    director = f.UserFactory(
        username="jo.director", role="Regional director", bodies=[nhse], region=london, first_name="Jo"
    )
    f.UserFactory(username="ada.admin", role="Administrator", bodies=[nhse], first_name="Ada", last_name="Admin")
    newcomer = f.UserFactory(username="nia.new", role="Staff", bodies=[nhse], first_name="Nia", last_name="New")
    User.objects.filter(pk=newcomer.pk).update(must_change_password=True)
    trust = f.OrganisationFactory(name="Whittington Health NHS Trust", region=london)
    f.UserFactory(username="pat.partner", role="Partner", organisation=trust, first_name="Pat")
    winter = f.ProgrammeFactory(title="Winter resilience", bodies=[nhse])
    f.RegionalDeliveryFactory(programme=winter, region=london, rag="red", note="Behind plan.")
    f.ExpectationFactory(
        programme=winter,
        issued_by=nhse,
        stage="consultation",
        consultation_closes=timezone.localdate() + dt.timedelta(days=9),
        due_date=dt.date(2030, 3, 31),
    )
    report = ReportRun.objects.create(kind="consistency")
    services.execute(report.pk)
    finding = Finding.objects.get(run=report, rule="appointment-shares")
    workflow.assign(finding, staff, timezone.localdate(), director)
    FindingCase.objects.update(due_date=timezone.localdate() - dt.timedelta(days=2))
    return {"finding": finding}


def test_each_roles_home_starts_with_what_needs_them_and_passes_axe(new_page, world):
    staff = new_page()
    sign_in(staff, "sam.staff")
    expect(staff.get_by_role("heading", level=1)).to_have_text("My work")
    held = staff.locator("#findings-held-table")
    expect(held).to_contain_text(world["finding"].message)
    expect(held).to_contain_text("Overdue")
    # At 1280 px the header shows what Staff use most without "More".
    staff.wait_for_load_state("load")
    navigation = staff.get_by_role("navigation", name="Portal")
    for name in STAFF_FIRST:
        expect(navigation.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert_accessible(staff, "Staff's home")

    director = new_page()
    sign_in(director, "jo.director")
    expect(director).to_have_url(re.compile(r"/regions/Y56/$"))
    expect(director.get_by_role("heading", level=2, name="What needs you in London")).to_be_visible()
    expect(director.locator("#red-programmes + ul")).to_contain_text("Winter resilience")
    assert_accessible(director, "a Regional director's home")

    admin = new_page()
    sign_in(admin, "ada.admin")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Administration")
    expect(admin.locator("#cannot-sign-in-table")).to_contain_text("Has a one-time password not yet changed")
    expect(admin.get_by_role("navigation", name="Portal").get_by_role("link", name="Users", exact=True)).to_be_visible()
    assert_accessible(admin, "an Administrator's home")

    partner = new_page()
    sign_in(partner, "pat.partner")
    expect(partner.get_by_role("heading", level=1)).to_have_text("Whittington Health NHS Trust")
    expect(partner.get_by_text("9 days left")).to_be_visible()
    respond = partner.get_by_role("link", name=re.compile("^Respond to this consultation"))
    expect(respond).to_be_visible()
    assert_accessible(partner, "a Partner's home")
    respond.click()
    expect(partner).to_have_url(re.compile(r"/consultations/\d+/$"))
