"""Every page, as each role, names itself and speaks in words: a title, no stored codes without their names,
no "None", no "Not given", no raw timestamps, no "a expectation", no HTML shown as text.

The pages are found, not listed: every declared resource's list, detail, form and history pages (from the
registry), the pages of its records that leave a field empty (one for each field that may be), plus the pages
around them. The codes that must not appear alone are read from the data (every
measure code, theme, rule code, ODS code and programme slug in the database), so a new record or rule is
checked without anyone adding it here.
"""

import io
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from accounts.models import User
from measures.models import Measure
from nhs_joint import archive, failures, generic
from nhs_joint.registry import registry
from nhs_joint.words import article
from organisations.models import Organisation
from programmes import demo
from programmes.models import Programme, theme_name
from regions.models import LocalHealthSystem, Region
from reports import services
from reports.models import Finding, ReportRun
from reports.rules import all_rules, rule_name
from tests.conftest import create_roles, shared_test_data

# One worker runs the module (pytest-xdist), so that the world its two walks read is seeded once, not once on each.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.xdist_group("every-page-as-each-role")]

TITLE_END = " – NHS Joint Working Portal"
ROLES = ("staff.demo", "director.demo", "admin.demo", None)  # None: signed out


class VisibleText(HTMLParser):
    """The words a reader sees: no tags, attributes, scripts or styles."""

    SKIP = {"script", "style", "template", "title", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        if tag in {"p", "li", "td", "th", "dt", "dd", "h1", "h2", "h3", "div", "br", "option", "label", "a"}:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        if tag in {"p", "li", "td", "th", "dt", "dd", "h1", "h2", "h3", "div", "option", "label", "a"}:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def of(cls, html):
        """The page's visible text and its title (the document's, not a drawing's <title>)."""
        parser = cls()
        parser.feed(html)
        title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S)
        title = unescape(" ".join(title.group(1).split())) if title else ""
        return " ".join("".join(parser.parts).split()), title


ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
RAW_TAG = re.compile(r"</?(?:ul|li|p|a|strong|em|br|span|div|code)\b[^>]*>")
ARTICLE = re.compile(r"(?<![\w-])(a|an|A|An) ([A-Za-z][\w]*)")
NONE = re.compile(r"(?<![\w-])None(?![\w-])(?!\s+[a-z])")  # not "None recorded", "None in post"
# A field left empty is either left out (it does not apply) or said in words ("Never", "No end date").
NOT_GIVEN = re.compile(r"\bNot given\b", re.I)


def article_faults(text):
    faults = []
    for match in ARTICLE.finditer(text):
        said, word = match.group(1).lower(), match.group(2)
        if len(word) == 1:  # "a 4", "part A": no noun follows
            continue
        if article(word) != said:
            faults.append(match.group(0))
    return faults


CODE_LIKE = re.compile(r"^(?=.*[-\d_]|[A-Z0-9]+$)[\w-]+$")  # "ae-4hr", "Y56", "RJ1": not an ordinary word


def codes_with_names():
    """(code, names) for every stored code whose record has a name; the code may appear only beside one of them.

    A code that is an ordinary word ("cancer", a programme's slug) is left out: the word may be written anyway.
    """
    pairs = []
    pairs += [(m.code, (m.name,)) for m in Measure.all_objects.all()]
    pairs += [(p.slug, (p.title,)) for p in Programme.all_objects.all()]
    pairs += [(p.theme, (theme_name(p.theme),)) for p in Programme.all_objects.exclude(theme="")]
    pairs += [(r.ods_code, (r.name, str(r))) for r in Region.objects.all()]
    pairs += [(s.ods_code, (s.name, str(s))) for s in LocalHealthSystem.objects.all()]
    pairs += [(o.ods_code, (o.name, str(o))) for o in Organisation.objects.all()]
    pairs += [(code, (rule_name(code),)) for code in all_rules()]
    return {(code, names) for code, names in pairs if code and CODE_LIKE.match(code)}


def code_faults(text, pairs):
    faults = []
    for code, names in pairs:
        for match in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
            window = text[max(0, match.start() - 300) : match.end() + 300]
            if not any(name in window for name in names):
                faults.append(f"{code} without “{names[0]}”: …{window[250:400]}…")
                break
    return faults


def plural_nouns():
    """The plurals the pages count: every kind of record's, and the other things counted in words."""
    nouns = {str(resource.verbose_name_plural) for resource in registry.declared_resources()}
    nouns |= {"findings", "open findings", "months", "results", "measures", "notifications", "asks", "expectations"}
    return nouns


ONE_OF_MANY = re.compile(
    r"(?<![\d,.])1 (" + "|".join(sorted(map(re.escape, plural_nouns()), key=len, reverse=True)) + r")\b"
)


# What a board paper would never print: comparators as symbols, a measure's stored decimals ("95.00",
# "87.500": two or more decimals ending in a zero), a figure of a measure without its unit.
SYMBOLS = re.compile(r"[<>]=|[≥≤]")
MEASURE_WORDS = (
    r"(?:Latest figure for [^:]{1,60}:|[Ll]atest|Value|Target:?|[Ss]tandard:?|at least|at most|Mean|Upper|Lower)"
)
STORED_DECIMAL = re.compile(MEASURE_WORDS + r" (\d+\.\d+0)(?![\d.])|(?<![\d.])\d+\.\d+0(?=%)")
# A figure after those words with neither its unit nor a noun after it ("at least 8 characters" is words).
BARE_FIGURE = re.compile(MEASURE_WORDS + r" (\d[\d,]*(?:\.\d+)?)(?!\d|[.,]\d|%| [A-Za-z(])")


def figure_faults(text):
    """Symbols, stored decimals and figures without their unit, each with where it was found."""
    faults = []
    for name, pattern in (("a comparator as a symbol", SYMBOLS), ("a stored decimal", STORED_DECIMAL)):
        faults += [f"{name}: …{text[max(0, m.start() - 50) : m.end() + 20]}…" for m in pattern.finditer(text)]
    for match in BARE_FIGURE.finditer(text):
        faults.append(f"a figure without its unit: …{text[max(0, match.start() - 30) : match.end() + 20]}…")
    return faults[:5]


def grammar_faults(text):
    """A count that disagrees with its noun: "1 programmes", "these 1"."""
    faults = [match.group(0) for match in ONE_OF_MANY.finditer(text)]
    faults += [match.group(0) for match in re.finditer(r"\bthese 1\b", text)]
    return faults


def problems_of(url, response, pairs):
    """What is wrong with one page, in words (empty when nothing is)."""
    html = response.content.decode()
    text, title = VisibleText.of(html)
    found = []
    if not title.endswith(TITLE_END) or not title[: -len(TITLE_END)].strip():
        found.append(f"title {title!r}")
    for name, pattern in (
        ("“None”", NONE),
        ("“Not given”", NOT_GIVEN),
        ("“---------”", re.compile("-{5,}")),
        ("a raw timestamp", ISO_TIME),
        ("HTML as text", RAW_TAG),
    ):
        match = pattern.search(text)
        if match:
            found.append(f"{name} shown: …{text[max(0, match.start() - 60) : match.end() + 30]}…")
    found += [f"article: {fault!r}" for fault in article_faults(text)]
    found += [f"a count and its noun disagree: {fault!r}" for fault in grammar_faults(text)]
    found += figure_faults(text)
    found += code_faults(text, pairs)
    return [f"{url}: {problem}" for problem in found]


def record_pages(resource, user):
    """The list, one record's page, its form and its history, and the form for a new one: (address, the status
    the gate gives ``user`` there)."""
    seen = resource.permissions.view is None or resource.permissions.view(user).allowed
    pages = [(resource.list_url(), seen)]
    record = resource.list.queryset().order_by("pk").first()
    if record is not None:
        key = getattr(record, resource.lookup)
        pages.append((resource.detail_url(key), seen))
        for suffix in ("history", "edit"):
            try:
                url = reverse(f"{resource.name}-{suffix}", args=[key])
            except NoReverseMatch:
                continue
            changed = suffix != "edit" or (
                not archive.is_hidden(record) and resource.permissions.change(user, record).allowed
            )
            pages.append((url, seen and changed))
    try:
        pages.append((reverse(f"{resource.name}-create"), seen and resource.permissions.create(user).allowed))
    except NoReverseMatch:
        pass
    return [(url, 200 if allowed else 403) for url, allowed in pages]


def empty_field_pages(resource, user):
    """The pages of the first records that leave a field empty, one for each field that may be left empty (a
    date not yet known, a note not written, no body agreeing yet): what the page says of an empty field, with the
    status the gate gives ``user`` there."""
    seen = resource.permissions.view is None or resource.permissions.view(user).allowed
    queryset = resource.list.queryset()
    keys = []
    for field in resource.model._meta.get_fields():
        if field.auto_created or not (getattr(field, "null", False) or getattr(field, "blank", False)):
            continue
        if field.many_to_many:
            empty = models.Q(**{f"{field.name}__isnull": True})
        elif field.concrete and not field.primary_key:
            empty = models.Q(**{f"{field.name}__isnull": True}) if field.null else models.Q()
            if isinstance(field, (models.CharField, models.TextField)):
                empty |= models.Q(**{field.name: ""})
            if not empty:
                continue
        else:
            continue
        key = queryset.filter(empty).order_by("pk").values_list(resource.lookup, flat=True).first()
        if key is not None:
            keys.append(key)
    return [(resource.detail_url(key), 200 if seen else 403) for key in dict.fromkeys(keys)]


def every_page(user):
    """Every page, with the status the gate gives ``user`` there: a record's pages as its resource's
    permissions decide (nhs_joint/permissions.py), the pages around them open to every member of staff, and an
    address that names no page not found."""
    pages = []
    for resource in sorted(registry.declared_resources(), key=lambda r: r.name):
        pages += record_pages(resource, user)
        pages += empty_field_pages(resource, user)
    region = Region.objects.active().order_by("ods_code").first()
    measure = Measure.objects.order_by("code").first()
    around = [
        "/",
        reverse("my-work"),
        reverse("region-overview"),
        reverse("region-detail", args=[region.ods_code]),
        reverse("region-measure-chart", args=[region.ods_code, measure.code]),
        reverse("glossary"),
        reverse("search") + "?q=london",
        reverse("service-status"),
        reverse("password_change"),
        reverse("your-tokens"),
        "/no-such-page/",
    ]
    pages += [(url, 200 if names_a_page(url) else 404) for url in around]
    return list(dict(pages).items())


def names_a_page(url):
    try:
        resolve(url.split("?")[0])
    except Resolver404:
        return False
    return True


def signed_out_pages():
    """The pages tried signed out, with where each ends: its own page where its view needs no sign-in
    (``login_not_required``), the sign-in page for every other page, and not found for an address of none."""
    pages = []
    for url in ["/accounts/login/", "/status/", "/api/docs/", "/no-such-page/"]:
        if not names_a_page(url):
            pages.append((url, 404, url))
        elif getattr(resolve(url).func, "login_required", True):
            pages.append((url, 200, settings.LOGIN_URL))
        else:
            pages.append((url, 200, url))
    return pages


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker):
    """The world made once for the module's tests, which only read it (`seed_world`; most of a minute)."""
    yield from shared_test_data(django_db_blocker, seed_world)


@pytest.fixture
def world(db, world_once):
    """The seeded world (`world_once`): what a test writes is rolled back after it."""


def seed_world():
    """The reference data, the demonstration and a run of each report."""
    create_roles()  # a transactional test before this one may have emptied the data migration's groups
    call_command("load_reference", stdout=io.StringIO())
    demo.seed(password="a long demonstration password")
    for kind in ReportRun.Kind.values:
        run = ReportRun.objects.create(kind=kind)
        services.execute(run.pk)
        run.refresh_from_db()
        assert run.status == ReportRun.Status.SUCCEEDED, run.error
    assert Finding.objects.exists()


def test_every_page_as_each_role_names_itself_and_speaks_in_words(client, world):
    pairs = codes_with_names()
    assert len(pairs) > 50  # measures, programmes, themes, regions, organisations and rules
    problems, walked, statuses = [], 0, Counter()
    for username in ROLES:
        client.logout()
        if username is None:
            pages = signed_out_pages()
        else:
            user = User.objects.get(username=username)
            client.force_login(user)
            pages = [(url, status, None) for url, status in every_page(user)]  # a home may lead to the role's own
        for url, status, ends_at in pages:
            response = client.get(url, follow=True)
            assert response.status_code == status, (username, url, response.status_code, status)
            if ends_at is not None:  # signed out: the sign-in page, unless the page is open to everyone
                assert response.request["PATH_INFO"] == ends_at, (username, url, response.redirect_chain)
            assert response["Content-Type"].startswith("text/html"), (username, url)
            walked += 1
            statuses[status] += 1
            problems += [f"{username or 'signed out'} {problem}" for problem in problems_of(url, response, pairs)]
    assert walked > 3 * 40
    assert statuses[403] > 0 and statuses[404] > 0  # the gate refused some pages and some addresses name none
    assert not problems, "\n".join(problems)


def test_the_error_pages_name_themselves_too():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.csp_nonce = "n"
    responses = [handler(request, Exception("a test")) for handler in (generic.bad_request, generic.forbidden)]
    responses += [generic.not_found(request, Exception("a test")), generic.server_error(request)]
    responses.append(failures.service_unavailable(request, "The database cannot be reached."))
    assert [response.status_code for response in responses] == [400, 403, 404, 500, 503]
    for response in responses:
        problems = problems_of(str(response.status_code), response, set())
        assert not problems, problems


def not_given(text):
    return [f"“Not given”: …{text[max(0, m.start() - 60) : m.end() + 20]}…" for m in NOT_GIVEN.finditer(text)][:5]


def pdf_text(data):
    import subprocess

    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_csv_files_and_pdfs_speak_in_words_too(client, world):
    """The lists' CSV files, what is asked of a trust (CSV and letter) and a region's board pack, read back:
    no comparator as a symbol, no stored decimal, no figure without its unit, no "1 programmes", no "Not given"."""
    client.force_login(User.objects.get(username="staff.demo"))
    # What is asked of an organisation, or of a local health system where no organisation is loaded.
    target = Organisation.objects.filter(region__isnull=False).first()
    kind = "organisations"
    if target is None:
        target, kind = LocalHealthSystem.objects.order_by("ods_code").first(), "local-systems"
    region = Region.objects.active().order_by("ods_code").first()
    problems, read = [], 0
    csv_urls = [resource.list_url() + "?export=csv" for resource in registry.declared_resources()]
    csv_urls.append(f"/{kind}/{target.ods_code}/asks/?export=csv")
    for url in csv_urls:
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/csv"):
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = " ".join(body.decode("utf-8-sig").replace(",", " , ").split())
        read += 1
        problems += [f"{url}: {fault}" for fault in figure_faults(text) + grammar_faults(text) + not_given(text)]
    for url in (f"/{kind}/{target.ods_code}/asks/letter.pdf", f"/regions/{region.ods_code}/board-pack.pdf"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        text = " ".join(pdf_text(response.content).split())
        read += 1
        problems += [f"{url}: {fault}" for fault in figure_faults(text) + grammar_faults(text) + not_given(text)]
    assert read > 10
    assert not problems, "\n".join(problems)
