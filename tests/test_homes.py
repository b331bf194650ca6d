"""Each role's home starts with what needs them next, every link around it answers, and the finding, run and
dashboard pages agree with themselves, on the demonstration data (seed_demo and both reports)."""

import datetime as dt
import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from asks.models import Expectation, ExpectationResponse
from notifications import services as notices
from organisations.models import Organisation
from organisations.services import import_ods
from programmes.models import Programme, RegionalDelivery
from reports import services as report_services
from reports import workflow
from reports.models import Finding, FindingCase, ReportRun
from tests import factories as f
from tests.conftest import shared_test_data

# One worker runs the module (pytest-xdist), so that the demonstration its tests read is built once, not once on
# each worker.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.xdist_group("homes")]

DATA = Path(settings.BASE_DIR) / "data" / "ods"
AE_CONFLICT = "two voices on one measure"


def run(kind):
    report = ReportRun.objects.create(kind=kind)
    report_services.execute(report.pk)
    report.refresh_from_db()
    assert report.status == "succeeded", report.error
    return report


def seed():
    call_command("load_reference", stdout=io.StringIO())
    import_ods(DATA / "etr.csv", "trusts")
    import_ods(DATA / "eccg.csv", "ccgs")
    call_command("seed_demo", stdout=io.StringIO())
    runs = {kind: run(kind).pk for kind in ("consistency", "duplication")}
    trust = (
        Organisation.objects.filter(region__ods_code="Y56", kind__in=["nhs_trust", "foundation_trust"])
        .order_by("ods_code")
        .first()
    )
    f.UserFactory(username="pat.partner", role="Partner", organisation=trust, first_name="Pat")
    return {"trust": trust.pk, "runs": runs}


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """The demonstration data and both reports, made once (most of a minute) for the module's tests, which only
    read them: what a test writes is rolled back after it."""
    yield from shared_test_data(django_db_blocker, seed)


@pytest.fixture
def demo(db, seeded_once):
    return {
        "staff": User.objects.get(username="staff.demo"),
        "director": User.objects.get(username="director.demo"),
        "admin": User.objects.get(username="admin.demo"),
        "partner": User.objects.get(username="pat.partner"),
        "trust": Organisation.objects.get(pk=seeded_once["trust"]),
        "runs": {kind: ReportRun.objects.get(pk=pk) for kind, pk in seeded_once["runs"].items()},
    }


class Links(HTMLParser):
    """The links of a page's header (navigation and account menu) and footer."""

    def __init__(self):
        super().__init__()
        self.depth = {"header": 0, "footer": 0}
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag in self.depth:
            self.depth[tag] += 1
        href = dict(attrs).get("href")
        if tag == "a" and href and any(self.depth.values()):
            self.hrefs.append(href)

    def handle_endtag(self, tag):
        if tag in self.depth:
            self.depth[tag] -= 1


def links_around(html):
    parser = Links()
    parser.feed(html)
    return [href for href in dict.fromkeys(parser.hrefs) if href.startswith("/")]


def text_of(html):
    """What a person reads: the page's text without tags, scripts and drawings, spaces collapsed."""
    html = re.sub(r"(?s)<(script|style|svg)\b.*?</\1>", " ", html)
    html = re.sub(r"</?(?:a|strong|span|em|b|abbr)\b[^>]*>", "", html)  # words run on through inline tags
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def main_text(html):
    return text_of(html[html.index("<main") : html.index("</main>")])


def check_every_link_in_the_header_navigation_and_footer_of_each_roles_home_answers_200(client, demo):
    for role in ("staff", "director", "admin", "partner"):
        client.force_login(demo[role])
        home = client.get("/", follow=True)
        assert home.status_code == 200, role
        links = links_around(home.content.decode())
        assert len(links) >= 4, (role, links)
        for href in links:
            response = client.get(href, follow=True)  # as a person follows it (a home may send them on once)
            assert response.status_code == 200 and len(response.redirect_chain) <= 1, (role, href, response.status_code)
            if href.startswith("/api/"):  # the documentation is a page for people, not JSON
                assert response["Content-Type"].startswith("text/html"), (role, href)
        if role == "partner":
            assert "/api/docs/" not in links and "/notifications/" in links and "/glossary/" in links
            refused = client.get("/api/docs/", HTTP_ACCEPT="text/html")  # typed in: refused with a page, not JSON
            assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")
        else:
            assert "/api/docs/" in links


def check_navigation_puts_what_each_role_uses_most_first(client, demo):
    def navigation(user):
        client.force_login(user)
        html = client.get("/", follow=True).content.decode()
        nav = html[html.index('<nav class="nhsuk-header__navigation') :]
        nav = nav[: nav.index("</nav>")]
        return [text_of(item) for item in re.findall(r"(?s)<a[^>]*nhsuk-header__navigation-link[^>]*>(.*?)</a>", nav)]

    assert navigation(demo["staff"])[:7] == [
        "My work",
        "Programmes",
        "Workstreams",
        "Expectations",
        "Findings",
        "Regions",
        "Reports",
    ]
    assert navigation(demo["director"])[0] == "My work"
    assert navigation(demo["admin"])[0] == "Users"
    assert navigation(demo["partner"]) == ["What is asked of us", "Consultations"]


def check_staff_home_lists_findings_held_or_given_overdue_first_responses_and_watched_changes(client, demo):
    staff, director, partner = demo["staff"], demo["director"], demo["partner"]
    today = timezone.localdate()
    conflict = Finding.objects.get(rule="expectation-conflict")
    tariff = Finding.objects.get(rule="statutory-accountability")
    workflow.assign(tariff, staff, today + dt.timedelta(days=20), director)  # held, due later
    workflow.assign(conflict, director, today, staff)  # given, about to be overdue
    FindingCase.objects.filter(fingerprint=conflict.fingerprint).update(due_date=today - dt.timedelta(days=3))
    # A consultation staff wrote, answered with concerns by a London trust.
    asked = Expectation.objects.filter(audience="providers", region__isnull=True).order_by("-pk").first()
    Expectation.history.filter(id=asked.pk, history_type="+").update(history_user=staff)
    Expectation.objects.filter(pk=asked.pk).update(stage="consultation", consultation_closes=today + dt.timedelta(12))
    ExpectationResponse.objects.create(
        expectation=asked,
        organisation=demo["trust"],
        position="concerns",
        comment="Our winter plan cannot reach this by March.",
        responded_by=partner,
        responded_at=timezone.now(),
    )
    programme = Programme.objects.get(slug="maternity")
    client.force_login(staff)
    client.get("/")  # the first visit: what changes after it is news
    notices.watch(staff, programme)
    programme.summary = "Safer maternity care, as the Better Births review recommends."
    programme._history_user = director
    programme.save()
    page = main_text(client.get("/").content.decode())
    held = page[page.index("Findings you hold or gave") : page.index("Responses to your consultations")]
    assert "2 findings to act on or follow, 1 overdue" in held and "overdue first" in held
    assert held.index(AE_CONFLICT) < held.index("National tariff is recorded")  # overdue first
    assert "You gave it to Priya Raman" in held and "Given to you by Priya Raman" in held
    responses = page[page.index("Responses to your consultations") : page.index("What changed in what you watch")]
    assert f"{asked.measure.name}, {asked.programme.title}: 1 response waiting for your answer, 1 with concerns" in (
        responses
    )
    watched = page[page.index("What changed in what you watch") :]
    assert "Priya Raman changed programme Maternity transformation" in watched


def check_an_empty_home_says_what_would_appear_there_and_how_to_start(client, demo, nhse):
    client.force_login(f.UserFactory(username="new.starter", role="Staff", bodies=[nhse]))
    page = main_text(client.get("/").content.decode())
    assert "Findings given to you, and those you give to others, appear here" in page
    assert "give it to the person who can act on it" in page
    assert "When organisations respond to a consultation on an expectation you wrote" in page
    assert "You watch a record with the “Watch” button on its page" in page


def check_a_regional_director_lands_on_their_region_red_programmes_and_measures_first_then_their_work(client, demo):
    director = demo["director"]
    workflow.assign(Finding.objects.get(rule="expectation-conflict"), director, None, demo["staff"])
    client.force_login(director)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/regions/Y56/"
    html = client.get("/regions/Y56/").content.decode()
    page = main_text(html)
    assert "<h1>London</h1>" in html
    red = sorted(
        RegionalDelivery.objects.filter(region__ods_code="Y56", rag="red").values_list("programme__title", flat=True)
    )
    assert len(red) == 3
    first = page[page.index("What needs you in London") : page.index("Measures at a glance")]
    programmes = first[first.index("Programmes delivered red") : first.index("Measures needing a look")]
    assert [title for title in red if title in programmes] == red
    measures = first[first.index("Measures needing a look") : first.index("Findings you hold or gave")]
    assert "Fails target" in measures or "Concern" in measures
    assert AE_CONFLICT in first[first.index("Findings you hold or gave") :]
    # The dashboard of another region has no "What needs you" for them.
    assert "What needs you" not in main_text(client.get("/regions/Y59/").content.decode())


def check_an_administrator_sees_who_cannot_sign_in_and_why_then_their_work(client, demo, nhse):
    f.UserFactory(username="lee.locked", role="Staff", bodies=[nhse], first_name="Lee", last_name="Locked")
    AccessAttempt.objects.create(
        username="lee.locked",
        ip_address="127.0.0.1",
        user_agent="test",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
        http_accept="text/html",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
    )
    fresh = f.UserFactory(username="new.password", role="Staff", bodies=[nhse], first_name="Nia", last_name="New")
    User.objects.filter(pk=fresh.pk).update(must_change_password=True)
    f.UserFactory(username="no.role", bodies=[nhse], first_name="Noel", last_name="Role")
    f.UserFactory(username="fine.user", role="Staff", bodies=[nhse], first_name="Fay", last_name="Fine")
    client.force_login(demo["admin"])
    page = main_text(client.get("/").content.decode())
    blocked = page[page.index("People who cannot sign in") : page.index("Your work")]
    assert "3 people cannot use the portal now" in blocked
    assert "Lee Locked (lee.locked) Why Sign-in paused after too many failed attempts, until" in blocked
    assert "Nia New (new.password) Why Has a one-time password not yet changed" in blocked
    assert "Noel Role (no.role) Why Has no role" in blocked
    assert "Fay Fine" not in blocked and "pat.partner" not in blocked
    assert page.index("People who cannot sign in") < page.index("Findings you hold or gave")


def check_a_partner_lands_on_their_open_consultations_with_the_days_left_then_their_asks(client, demo):
    today = timezone.localdate()
    asked = Expectation.objects.filter(audience="providers", region__isnull=True).order_by("pk").first()
    Expectation.objects.filter(pk=asked.pk).update(stage="consultation", consultation_closes=today + dt.timedelta(12))
    asked.refresh_from_db()
    client.force_login(demo["partner"])
    html = client.get("/").content.decode()
    page = main_text(html)
    assert page.index("Consultations open to you") < page.index("What is asked of you")
    assert "1 consultation waits for your answer." in page
    assert f"Closes on {asked.consultation_closes.day} {asked.consultation_closes:%B %Y}: 12 days left" in page
    main = html[html.index("<main") :]
    first_link = re.search(r'<a [^>]*href="([^"]+)"', main).group(1)
    assert first_link == f"/consultations/{asked.pk}/"  # the call to action comes first
    ExpectationResponse.objects.create(
        expectation=asked,
        organisation=demo["trust"],
        position="agree",
        responded_by=demo["partner"],
        responded_at=timezone.now(),
    )
    page = main_text(client.get("/").content.decode())
    assert "You have answered every open consultation" in page and "You answered: We agree" in page


def check_the_finding_pages_say_one_state_the_whole_message_and_nothing_not_given(client, demo):
    staff = demo["staff"]
    conflict = Finding.objects.get(rule="expectation-conflict")
    workflow.change_state(conflict, "in_progress", staff)
    client.force_login(staff)
    html = client.get(f"/findings/{conflict.pk}/").content.decode()
    page = main_text(html)
    heading = text_of(re.search(r"(?s)<h1[^>]*>(.*?)</h1>", html).group(1))
    assert heading == conflict.message and heading.endswith(f"{AE_CONFLICT}.")  # never cut
    assert "State In progress" in page
    assert "Status" not in page and "Open" not in page.split("Acting on it")[0]
    for finding in Finding.objects.exclude(rule__startswith="duplicate-work"):
        page = main_text(client.get(f"/findings/{finding.pk}/").content.decode())
        assert "Not given" not in page, finding.rule
        assert ("In common" in page) == bool(finding.shared_terms), finding.rule
        assert ("Score" in page) == (finding.score is not None), finding.rule


SEVERITY = {"High severity": 0, "Medium severity": 1, "Low severity": 2}


def severities_in(page):
    return [SEVERITY[word] for word in re.findall(r"(?:High|Medium|Low) severity", page)]


def check_findings_and_runs_are_listed_most_severe_first_with_the_icons(client, demo):
    client.force_login(demo["staff"])
    for report in demo["runs"].values():
        html = client.get(f"/reports/{report.pk}/").content.decode()
        found = severities_in(main_text(html))
        assert len(found) == report.findings.count() > 1 and found == sorted(found), report.kind
        assert "nhsuk-icon--" in html.split("</thead>")[1]  # each severity with its icon
    html = client.get("/findings/").content.decode()
    found = severities_in(main_text(html))
    assert len(found) == Finding.objects.count() and found == sorted(found) and len(set(found)) == 3


def check_the_london_dashboard_lists_red_first_the_england_wide_conflict_london_and_its_one_lead(client, demo):
    client.force_login(demo["staff"])
    html = client.get("/regions/Y56/").content.decode()
    page = main_text(html)
    assert "<h1>London</h1>" in html and "Y56" not in page
    delivered = text_of(html[html.index('id="delivery"') : html.index('id="expectations"')])
    rags = re.findall(r"RAG status (Red|Amber|Green)", delivered)
    assert len(rags) == 21 and rags == sorted(rags, key=["Red", "Amber", "Green"].index) and rags[0] == "Red"
    lead = (
        RegionalDelivery.objects.filter(region__ods_code="Y56")
        .values_list("lead__name", flat=True)
        .order_by()
        .distinct()
    )
    assert len(lead) == 1 and delivered.count(lead[0]) == 1  # said once, not on each of 21 rows
    findings = page[page.rindex("Open report findings") :]
    assert AE_CONFLICT in findings and "nothing open" not in findings
    assert severities_in(findings) == sorted(severities_in(findings))
    # The overview lists each region by name, red first in its RAG counts.
    overview = main_text(client.get("/regions/").content.decode())
    assert "London" in overview and "Y56" not in overview
    assert re.search(r"London \S.*? \d+ Red \d+ Amber \d+ Green \d+", overview)


# The demonstration data takes most of a minute to build: it is built once, and the checks share it.


def test_every_link_in_the_header_navigation_and_footer_of_each_roles_home_answers_200(client, demo):
    """Signed in as each role: every link of the header, navigation and footer of their home answers 200, and
    the navigation puts what the role uses most first."""
    check_every_link_in_the_header_navigation_and_footer_of_each_roles_home_answers_200(client, demo)
    check_navigation_puts_what_each_role_uses_most_first(client, demo)


def test_each_roles_home_starts_with_what_needs_them_next(client, demo, nhse):
    """Staff, a new starter, a Regional director, an Administrator and a Partner, each on their home."""
    check_staff_home_lists_findings_held_or_given_overdue_first_responses_and_watched_changes(client, demo)
    check_an_empty_home_says_what_would_appear_there_and_how_to_start(client, demo, nhse)
    check_a_regional_director_lands_on_their_region_red_programmes_and_measures_first_then_their_work(client, demo)
    check_an_administrator_sees_who_cannot_sign_in_and_why_then_their_work(client, demo, nhse)
    check_a_partner_lands_on_their_open_consultations_with_the_days_left_then_their_asks(client, demo)


def test_the_finding_run_and_dashboard_pages_agree_with_themselves(client, demo):
    """One state, the message in full, nothing “Not given”; most severe first; red first; London by name."""
    check_the_finding_pages_say_one_state_the_whole_message_and_nothing_not_given(client, demo)
    check_findings_and_runs_are_listed_most_severe_first_with_the_icons(client, demo)
    check_the_london_dashboard_lists_red_first_the_england_wide_conflict_london_and_its_one_lead(client, demo)
