"""The portal's words: counts and articles, dates and times, error messages, hints, the glossary, the service
status page and what a signed-out person is told about the API documentation."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from markupsafe import escape

from nhs_joint.forms import Form
from nhs_joint.jinja2 import environment
from nhs_joint.registry import registry
from nhs_joint.tables import Column, Table
from nhs_joint.words import (
    article,
    comparison,
    count,
    download_as_csv,
    figure,
    last_signed_in,
    none_found,
    plural,
    shorten,
    showing,
    with_article,
)
from reports.rules import all_rules, rule_name
from tests import factories as f

UTC = dt.UTC


# Counts and articles.


@pytest.mark.parametrize(
    "noun, expected",
    [
        ("expectation", "an expectation"),
        ("appointment", "an appointment"),
        ("organisation", "an organisation"),
        ("programme", "a programme"),
        ("user", "a user"),
        ("one-time password", "a one-time password"),
        ("NHS trust", "an NHS trust"),
        ("ODS code", "an ODS code"),
        ("hour", "an hour"),
        ("board approval", "a board approval"),
        ("regional delivery", "a regional delivery"),
        ("high", "a high"),
    ],
)
def test_the_article_is_the_one_the_noun_is_said_with(noun, expected):
    assert with_article(noun) == expected
    assert article(noun) == expected.split(" ")[0]


@pytest.mark.parametrize(
    "number, noun, expected",
    [
        (0, "finding", "0 findings"),
        (1, "finding", "1 finding"),
        (2, "finding", "2 findings"),
        (1, "open finding", "1 open finding"),
        (3, "open finding", "3 open findings"),
        (2, "body", "2 bodies"),
        (2, "day", "2 days"),
        (2, "person", "2 people"),
        (2, "local health system", "2 local health systems"),
        (2, "search", "2 searches"),
        (1234, "measurement", "1,234 measurements"),
    ],
)
def test_a_count_takes_the_singular_for_one_and_the_plural_otherwise(number, noun, expected):
    assert count(number, noun) == expected


def test_a_count_can_say_nothing_in_words_and_take_an_irregular_plural():
    assert count(0, "finding", zero="No findings") == "No findings"
    assert count(1, "finding", zero="No findings") == "1 finding"
    assert count(2, "criterion", "criteria") == "2 criteria"
    assert plural("finding", 1) == "finding" and plural("finding") == "findings"


def test_templates_count_and_choose_articles_through_the_same_helpers():
    env = environment()
    template = env.from_string('{{ n | counted("finding") }}; Add {{ noun | with_article }}')
    assert template.render(n=1, noun="expectation") == "1 finding; Add an expectation"
    assert template.render(n=2, noun="programme") == "2 findings; Add a programme"


def test_text_is_shortened_between_words_with_an_ellipsis():
    text = "The shares of Jo Okafor's post “National Director of Improvement” total 90%, not 100%: fix the shares"
    short = shorten(text, 80)
    assert len(short) <= 80 and short.endswith("…")
    assert text.startswith(short[:-1])
    assert re.match(r"[\s,;:.]", text[len(short) - 1 :])  # cut where a word ended, never inside one
    assert shorten("Short enough", 80) == "Short enough"
    assert shorten("Averyveryverylongwordwithoutanyspaces", 10) == "Averyvery…"


def test_a_list_says_what_it_shows_in_words_for_one_many_and_pages():
    assert showing(1, 1, 1, "programme") == "Showing 1 programme"
    assert showing(1, 12, 12, "programme") == "Showing 12 programmes"
    assert showing(26, 50, 130, "programme") == "Showing 26 to 50 of 130 programmes"
    assert showing(1, 25, 10_001, "finding", more_than=10_000) == "Showing 1 to 25 of more than 10,000 findings"
    assert showing(1, 2, 2, "regional delivery", "regional deliveries") == "Showing 2 regional deliveries"
    assert download_as_csv(1, "programme") == "Download this programme as CSV"
    assert download_as_csv(12, "programme") == "Download these 12 programmes as CSV"
    assert download_as_csv(10_001, "finding", capped=True) == "Download them all as CSV"
    assert none_found("findings", filtered=1) == "No findings match these filters"
    assert none_found("findings", filtered=0) == "There are no findings yet"
    assert none_found("programmes", filtered=0, archived=True) == "There are no archived programmes"
    assert last_signed_in(None) == "Never"


@pytest.mark.parametrize(
    "value, unit, places, expected",
    [
        ("95.00", "percent", None, "95%"),
        ("87.500", "percent", 1, "87.5%"),
        ("87.456", "percent", 1, "87.5%"),
        ("90", "percent", 1, "90.0%"),
        (18, "minutes", 0, "18 minutes"),
        (1, "minutes", 0, "1 minute"),
        (1234, "count", 0, "1,234"),
        ("4.20", "rate_per_1000", None, "4.2 per 1,000"),
        (None, "percent", 1, ""),
    ],
)
def test_a_figure_is_written_with_its_unit_and_its_measures_decimal_places(value, unit, places, expected):
    assert figure(value, unit, places) == expected


def test_a_target_says_its_comparator_in_words():
    assert comparison(">=", "95.00", "percent") == "at least 95%"
    assert comparison("<=", 18, "minutes", 0) == "at most 18 minutes"
    assert comparison(">=", "95.00", "percent", 1) == "at least 95%"  # no trailing zeros in a target
    assert comparison(">=", "93.456", "percent", 1) == "at least 93.5%"
    assert comparison("", 5, "count") == "5"
    assert comparison(">=", None, "percent") == ""


@pytest.mark.django_db
def test_a_list_of_one_says_so_and_an_empty_list_blames_the_filters_only_when_there_are_some(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    html = client.get("/programmes/").content.decode()
    assert "There are no programmes yet." in html and "match these filters" not in html
    f.ProgrammeFactory(title="Seven day services", bodies=[nhse])
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get("/programmes/").content.decode()).split())
    assert "Showing 1 programme." in text and "Download this programme as CSV" in text
    assert "1 programmes" not in text and "these 1" not in text
    html = client.get("/programmes/?q=nothing-like-this").content.decode()
    assert "No programmes match these filters." in html


@pytest.mark.django_db
def test_names_are_listed_without_regard_to_case(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    for title in ("STP and integrated care", "Seven day services", "amber care"):
        f.ProgrammeFactory(title=title, bodies=[nhse])
    for query in ("", "?ordering=title"):
        html = client.get(f"/programmes/{query}").content.decode()
        found = [html.index(title) for title in ("amber care", "Seven day services", "STP and integrated care")]
        assert found == sorted(found), query
    html = client.get("/programmes/?ordering=-title").content.decode()
    assert html.index("STP and integrated care") < html.index("Seven day services") < html.index("amber care")


@pytest.mark.django_db
def test_someone_who_never_signed_in_is_shown_as_never(client, nhse):
    client.force_login(f.UserFactory(role="Administrator", bodies=[nhse]))
    newcomer = f.UserFactory(role="Staff", bodies=[nhse], last_login=None)
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/users/{newcomer.pk}/").content.decode()).split())
    assert "Last signed in Never" in text


# Dates and times.


@pytest.mark.parametrize(
    "moment, expected",
    [
        (dt.datetime(2026, 11, 29, 14, 48, 20, 581020, tzinfo=UTC), "29 November 2026 at 2:48pm"),  # GMT
        (dt.datetime(2026, 7, 1, 13, 5, tzinfo=UTC), "1 July 2026 at 2:05pm"),  # BST: an hour ahead of UTC
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "29 March 2026 at 12:30am"),  # the GMT side of the change
        (dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "29 March 2026 at 2:30am"),  # the BST side
        (dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC), "25 October 2026 at midnight"),  # BST: a day later
        (dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "1 December 2026 at midday"),
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")), "1 December 2026 at 9am"),
    ],
)
def test_times_are_written_the_nhs_way_in_london_time(moment, expected):
    env = environment()
    assert env.from_string("{{ moment | datetime }}").render(moment=moment) == expected
    # Tables (list pages) write them the same way, never as a stored timestamp.
    assert f"<span>{expected}</span>" in Table([Column(getter=lambda row: moment)], [None]).body_html(
        headers=[{"text": "When"}]
    )


def test_dates_are_written_in_full_and_empty_values_as_nothing():
    env = environment()
    assert env.from_string("{{ d | date }}").render(d=dt.date(2018, 4, 1)) == "1 April 2018"
    # A time near midnight UTC in summer is already the next day in London.
    assert env.from_string("{{ d | date }}").render(d=dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"
    assert env.from_string("{{ d | datetime }}{{ d | date }}").render(d=None) == ""


# Error messages and hints.


class QuestionForm(Form):
    from django import forms as _forms

    reason = _forms.CharField(label="Why is this not a problem?", max_length=20)
    title = _forms.CharField(label="Title", max_length=10)
    ods = _forms.CharField(label="ODS code")
    kind = _forms.ChoiceField(label="Kind", choices=[("", "---------"), ("a", "A kind")])


def test_error_messages_name_the_field_and_never_echo_a_question():
    form = QuestionForm(data={"reason": "", "title": "x" * 11, "ods": "", "kind": "zzz"})
    assert not form.is_valid()
    errors = form.errors
    assert errors["reason"] == ["Enter your answer."]
    assert errors["title"] == ["The title must be 10 characters or fewer."]
    assert errors["ods"] == ["Enter the ODS code."]
    assert errors["kind"] == ["Select a kind from the list."]
    assert ("", "Not chosen") in form.fields["kind"].choices
    assert not any("?." in message for messages in errors.values() for message in messages)


@pytest.mark.django_db
def test_deciding_a_finding_without_a_reason_says_what_to_enter(client, nhse):
    user = f.UserFactory(role="Staff", bodies=[nhse])
    finding = f.FindingFactory()
    client.force_login(user)
    response = client.post(reverse("finding-decision", args=[finding.pk]), {"reason": ""})
    html = response.content.decode()
    assert "Enter a reason why this is not a problem" in html
    assert "Enter the why" not in html
    # The error summary at the top links to the field.
    assert re.search(r'<a href="#id_reason"[^>]*>\s*Enter a reason why this is not a problem', html), html[:3000]


@pytest.mark.django_db
def test_the_password_rules_are_a_list_not_html_shown_as_text(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    html = client.get(reverse("password_change")).content.decode()
    assert "&lt;ul&gt;" not in html and "&lt;li&gt;" not in html
    hint = re.search(r'id="id_new_password1-hint"[^>]*>(.*?)</div>', html, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", hint)
    assert len(items) >= 3, hint
    assert any("at least" in item and "characters" in item for item in items)


# The glossary.


@pytest.mark.django_db
def test_the_glossary_explains_every_registered_rule_and_the_portal_words(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("glossary"))
    assert response.status_code == 200
    html = response.content.decode()
    assert len(ctx.captured_queries) <= 4  # the session and the user: the glossary itself reads no table
    rules = all_rules()
    assert len(rules) >= 10
    for code, rule in rules.items():
        assert f'id="rule-{code}"' in html, code
        assert str(escape(rule_name(code))) in html and str(escape(rule.summary)) in html, code
    for term in (
        "Integration stage",
        "One team",
        "Special cause variation",
        "Common cause variation",
        "Assurance icons",
        "Body",
        "Region",
        "ODS code",
        "Audience",
        "Expectation",
        "Workstream",
    ):
        assert f">{term}<" in html, term


def test_a_new_rule_appears_in_the_glossary_without_editing_it(monkeypatch):
    from reports import rules

    @rules.rule("glossary-probe", kind="consistency", severity="low", name="Glossary probe")
    def check(context):
        return []

    try:
        entries = [entry for section in registry.glossary_sections() for entry in section["entries"]]
        probe = [entry for entry in entries if entry.anchor == "rule-glossary-probe"]
        assert len(probe) == 1 and probe[0].term == "Glossary probe"
    finally:
        rules._RULES.pop("glossary-probe")


def test_a_glossary_section_cannot_be_registered_twice():
    title = registry.glossary[0].title
    with pytest.raises(ValueError):
        registry.add_glossary(title, list, 99)


@pytest.mark.django_db
def test_findings_link_their_rule_to_the_glossary_by_name(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    finding = f.FindingFactory(rule="duplicate-work", message="Two workstreams describe the same work. " * 5)
    html = client.get(finding.get_absolute_url()).content.decode()
    assert f'href="{reverse("glossary")}#rule-duplicate-work">Duplicate work</a>' in html
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    # The heading is the message in full, never cut; the rule's name is in the summary, linked above.
    assert " ".join(heading.split()) == finding.message.strip() and "…" not in heading


# Service status.


@pytest.mark.django_db
def test_the_status_page_shows_the_health_checks_in_words(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("service-status"))  # signed out: monitors and people alike may look
    # Only the database check itself: no session, no user, so the page answers while the database is down.
    assert [q["sql"] for q in ctx.captured_queries] == ["SELECT 1"]
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<title>Service status – NHS Joint Working Portal</title>" in html
    assert "Every part of the portal is working" in html or "Report workers" in html
    assert "Records (the database)" in html
    assert '{"database"' not in html
    assert client.get("/healthz")["Content-Type"] == "application/json"  # /healthz stays JSON


@pytest.mark.django_db
def test_the_status_page_reflects_a_failing_check(client, settings, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get(reverse("service-status"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some parts of the portal are not working" in html
    assert "reports cannot be started" in html
    assert "Not known, because the report queue cannot be reached" in html
    assert "Every part of the portal is working" not in html


@pytest.mark.django_db
def test_the_footer_links_to_the_status_page_and_the_glossary(client):
    html = client.get(reverse("login")).content.decode()
    assert 'href="/status/"' in html and 'href="/glossary/"' in html
    assert 'href="/healthz"' not in html


# The API documentation, signed out.


@pytest.mark.django_db
def test_a_signed_out_person_is_told_to_sign_in_for_the_api_documentation(client, nhse):
    response = client.get("/api/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<title>Sign in to see the API documentation – NHS Joint Working Portal</title>" in html
    assert 'href="/accounts/login/?next=%2Fapi%2Fdocs%2F"' in html
    assert "403" not in html and "Forbidden" not in html
    # Signed in, the same address is the documentation itself.
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    signed_in = client.get("/api/docs/").content.decode()
    assert "Sign in to see the API documentation" not in signed_in and "swagger" in signed_in.lower()


# Navigation.


@pytest.mark.django_db
def test_the_navigation_reaches_people_findings_and_measurements_for_every_role(client, nhse):
    for role in ("Staff", "Regional director", "Administrator"):
        user = f.UserFactory(role=role, bodies=[nhse])
        client.force_login(user)
        html = client.get(reverse("glossary")).content.decode()
        nav = re.search(r'<nav class="nhsuk-header__navigation".*?</nav>', html, re.S).group(0)
        for href in ("/people/", "/findings/", "/measurements/", "/programmes/", "/regions/"):
            assert f'href="{href}"' in nav, (role, href)
        assert ('href="/users/"' in nav) == (role == "Administrator")
    client.logout()
    assert 'class="nhsuk-header__navigation' not in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_the_overview_says_when_no_report_has_run(client, nhse):
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    html = client.get(reverse("region-overview")).content.decode()
    assert "No report has run yet" in html and "0 open findings" not in html
    region = f.RegionFactory()
    assert "No report has run yet" in client.get(reverse("region-detail", args=[region.ods_code])).content.decode()
    f.FindingFactory(region=None)
    from reports.models import ReportRun

    ReportRun.objects.update(status=ReportRun.Status.SUCCEEDED)
    html = client.get(reverse("region-overview")).content.decode()
    assert "No report has run yet" not in html
    assert re.search(r"have (1 open finding that concerns|\d+ open findings that concern) England", html)


# Hints.


@pytest.mark.django_db
@pytest.mark.parametrize("resource", [r for r in registry.declared_resources() if r.form], ids=lambda r: r.name)
def test_every_field_of_every_form_has_a_hint_in_words(resource):
    form = resource.form.form_class(user=None)
    for name, field in form.fields.items():
        hint = str(field.help_text or "")
        assert hint.strip(), f"{resource.name}: {name} has no hint"
        assert "<" not in hint and "Required." not in hint, f"{resource.name}: {name}: {hint}"
