"""The search across every kind of record (search/): what people type finds what they mean, on the
demonstration data, through the page and the API; a partner finds only their own asks; the documents follow
edits; the search reads its indexes in a fixed number of queries."""

import io
import re
from html import escape, unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from asks.models import Expectation
from organisations.models import NationalBody, Organisation
from organisations.services import import_ods
from programmes.models import Programme, Workstream
from search.documents import KIND_LABELS
from search.models import SearchDocument
from search.query import TITLES_READ, Search, near_sql
from tests import factories as f
from tests.conftest import shared_test_data
from tests.test_every_page_as_each_role import seed_world

pytestmark = pytest.mark.django_db

ODS = Path(settings.BASE_DIR) / "data" / "ods"

# (what a person types, the kind and title of the record that must be among the first three results)
QUERIES = [
    ("UEC", "programme", "Urgent and emergency care, winter and A&E performance"),
    ("urgent and emergency care", "programme", "Urgent and emergency care, winter and A&E performance"),
    ("A&E", "measure", "A&E attendances seen within 4 hours"),
    ("a&e", "measure", "A&E attendances seen within 4 hours"),
    ("emergency department", "programme", "Urgent and emergency care, winter and A&E performance"),
    ("IAPT", "workstream", "Talking therapies expansion"),
    ("talking therapies", "measure", "Talking therapies: first treatment within 6 weeks"),
    ("GIRFT", "programme", "Getting it right first time"),
    ("girft", "programme", "Getting it right first time"),
    ("ICS", "workstream", "Integrated care system accelerator"),
    ("Lincolnshire STP", "local-system", "Lincolnshire STP"),
    ("CCG", "programme", "CCG improvement and assessment framework"),
    ("London", "region", "London Commissioning Region"),
    ("Y56", "region", "London Commissioning Region"),
    ("midlands", "region", "Midlands Commissioning Region"),
    ("Priya Raman", "person", "Priya Raman"),
    ("raman", "person", "Priya Raman"),
    ("regional director london", "appointment", "Priya Raman: Regional Director, London"),
    ("Leeds Teaching", "organisation", "Leeds Teaching Hospitals NHS Trust"),
    ("RR8", "organisation", "Leeds Teaching Hospitals NHS Trust"),
    ("sheffield teaching hospitals", "organisation", "Sheffield Teaching Hospitals NHS Foundation Trust"),
    ("Frimley", "local-system", "Frimley Health & Care ICS"),
    ("dischrage", "workstream", "Discharge to assess"),
    ("matenity", "programme", "Maternity transformation (Better Births)"),
    ("disabilities", "programme", "Transforming care for people with a learning disability"),
    ("e-rostering", "workstream", "Rota and e-rostering"),
    ("e rostering", "workstream", "Rota and e-rostering"),
    ("erostering", "workstream", "Rota and e-rostering"),
    ("winter plans", "workstream", "Winter planning and escalation"),
    ("cancer alliances", "workstream", "Cancer Alliance funding"),
    ("program", "programme", "Cancer programme and Cancer Alliances"),
    ("discharge to ass", "workstream", "Discharge to assess"),
    # What is asked of whom, and what the reports found.
    ("A&E providers", "expectation", "A&E attendances seen within 4 hours: at least 95% for providers (England)"),
    ("four hour standard", "expectation", "A&E attendances seen within 4 hours: at least 95% for providers (England)"),
    (
        "ambulance category 1",
        "expectation",
        "Ambulance category 1 mean response: at most 7 minutes for providers (England)",
    ),
    ("RTT 18 weeks", "measure", "Incomplete referral to treatment pathways within 18 weeks"),
    (
        "conflicting asks",
        "finding",
        "Conflicting expectations: Providers are asked for “A&E attendances seen within 4 hours” at least 95% by…",
    ),
    (
        "duplicate work",
        "finding",
        "Duplicate work: “Discharge to assess” (Urgent and emergency care, winter and A&E performance)…",
    ),
]
RESULT_LINK = re.compile(r'<h2 class="nhsuk-heading-s[^"]*"><a class="nhsuk-link" href="([^"]+)">')


def seed_found():
    """The demonstration data with the NHS trusts and CCGs (imported in bulk, so written again by the rebuild)."""
    seed_world()
    import_ods(ODS / "etr.csv", "trusts")
    import_ods(ODS / "eccg.csv", "ccgs")
    call_command("rebuild_search", stdout=io.StringIO())


@pytest.fixture(scope="class")
def found_once(django_db_setup, django_db_blocker):
    """Made once (most of a minute) for the class of tests that search it, which only read it: what a test
    writes is rolled back after it. Once per worker that runs one of them: the class is one xdist group, so
    that is one worker (without it, pytest-xdist shared its tests out and both workers seeded it)."""
    yield from shared_test_data(django_db_blocker, seed_found)


@pytest.fixture
def found(db, found_once):
    """The demonstration data, its trusts and CCGs, and their search documents (`found_once`)."""


@pytest.fixture
def staff(db):
    return f.UserFactory(role=Role.STAFF, bodies=list(NationalBody.objects.all()))


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
    return client


def page_links(client, typed, **params):
    response = client.get("/search/", {"q": typed, **params})
    assert response.status_code == 200, (typed, response.status_code)
    return [unescape(href) for href in RESULT_LINK.findall(response.content.decode())]


# (what a person types, a list, the record's title) for each list with a q: what /search/ finds first, the
# list's own q, its API list's q and (for long lists) its suggestions find too.
LIST_QUERIES = [
    ("UEC", "programme", "Urgent and emergency care, winter and A&E performance"),
    ("emergency department", "programme", "Urgent and emergency care, winter and A&E performance"),
    ("girft", "programme", "Getting it right first time"),
    ("matenity", "programme", "Maternity transformation (Better Births)"),
    ("IAPT", "workstream", "Talking therapies expansion"),
    ("ICS", "workstream", "Integrated care system accelerator"),
    ("dischrage", "workstream", "Discharge to assess"),
    ("erostering", "workstream", "Rota and e-rostering"),
    ("e rostering", "workstream", "Rota and e-rostering"),
    ("winter plans", "workstream", "Winter planning and escalation"),
    ("A&E", "measure", "A&E attendances seen within 4 hours"),
    ("talking therapies", "measure", "Talking therapies: first treatment within 6 weeks"),
    ("raman", "person", "Priya Raman"),
    ("regional director london", "appointment", "Priya Raman"),  # a list shows the person and the post apart
    ("Leeds Teaching", "organisation", "Leeds Teaching Hospitals NHS Trust"),
    ("RR8", "organisation", "Leeds Teaching Hospitals NHS Trust"),
]
LISTS = {  # kind: (the list page, its API list, its suggestions or None)
    "programme": ("/programmes/", "/api/v1/programmes/", "/suggest/programmes.programme/?key=slug&q="),
    "workstream": ("/workstreams/", "/api/v1/workstreams/", None),
    "measure": ("/measures/", "/api/v1/measures/", "/suggest/{measure}/?key=code&q="),
    "person": ("/people/", "/api/v1/people/", "/suggest/appointments.person/?key=pk&q="),
    "appointment": ("/appointments/", "/api/v1/appointments/", "/suggest/appointments.appointment/?key=pk&q="),
    "organisation": ("/organisations/", "/api/v1/organisations/", "/suggest/organisations.organisation/?key=pk&q="),
}


@pytest.mark.xdist_group("search-demonstration")
class TestTheDemonstrationSearched:
    """The search on the demonstration data with every trust and CCG, made once for the class (`found_once`)."""

    def test_what_people_type_finds_the_record_in_the_first_three_through_the_page_and_the_api(
        self, client, found, staff
    ):
        client.force_login(staff)
        api = api_client(staff)
        assert len(QUERIES) >= 25
        misses = []
        for typed, kind, title in QUERIES:
            document = SearchDocument.objects.get(kind=kind, title=title)  # the record exists, as named
            results = api.get("/api/v1/search/", {"q": typed}).json()["results"]
            first_three = [(r["kind"], r["title"]) for r in results[:3]]
            if (kind, title) not in first_three:
                misses.append(f"API {typed!r}: {first_three}")
            url = next(r["url"] for r in results if (r["kind"], r["title"]) == (kind, title)) if results else None
            links = page_links(client, typed)
            if url is None or url not in links[:3]:
                misses.append(f"page {typed!r}: {links[:3]} lacks {title} ({document.key})")
        assert not misses, "\n".join(misses)

    def test_an_exact_title_or_code_comes_first_and_archived_records_only_when_asked(self, client, found, staff):
        client.force_login(staff)
        api = api_client(staff)
        assert api.get("/api/v1/search/", {"q": "Y56"}).json()["results"][0]["title"] == "London Commissioning Region"
        assert api.get("/api/v1/search/", {"q": "priya raman"}).json()["results"][0]["kind"] == "person"
        # A workstream titled exactly as typed comes before a programme (likelier meant) with the word in its title.
        frailty = Programme.objects.get(title="Getting it right first time")
        f.ProgrammeFactory(title="Frailty and falls: frailty first", bodies=[frailty.bodies.first()])
        f.WorkstreamFactory(programme=frailty, title="Frailty", body=frailty.bodies.first())
        assert [r["title"] for r in api.get("/api/v1/search/", {"q": "frailty"}).json()["results"][:2]] == [
            "Frailty",
            "Frailty and falls: frailty first",
        ]
        programme = Programme.objects.get(title="Getting it right first time")
        programme.archive()
        titles = [r["title"] for r in api.get("/api/v1/search/", {"q": "GIRFT"}).json()["results"]]
        assert programme.title not in titles
        shown = api.get("/api/v1/search/", {"q": "GIRFT", "archived": "true"}).json()["results"]
        assert shown[0]["title"] == programme.title
        assert "(archived)" in client.get("/search/", {"q": "GIRFT", "archived": "yes"}).content.decode()

    def test_the_page_groups_by_kind_with_counts_filters_to_one_kind_and_marks_the_words_safely(
        self, client, found, staff
    ):
        client.force_login(staff)
        html = client.get("/search/", {"q": "london"}).content.decode()
        counts = Search("london").counts()
        assert counts["organisation"] > 20 and counts["region"] == 1
        assert f"Organisations ({counts['organisation']})" in html and "Regions (1)" in html
        assert re.search(r'<label\s[^>]*for="search-q"', html)  # the page's box has its label
        assert 'id="search-field"' in html  # and the header's search box is there too
        assert "<mark>London</mark>" in html
        regions_only = client.get("/search/", {"q": "london", "kind": "region"}).content.decode()
        assert RESULT_LINK.findall(regions_only) == ["/regions/Y56/"]
        # What a record says is never read as HTML: a workstream titled with markup is shown as text.
        programme = Programme.objects.get(title="Getting it right first time")
        f.WorkstreamFactory(
            programme=programme, title="<script>alert(1)</script> dialysis", body=programme.bodies.first()
        )
        marked = client.get("/search/", {"q": "dialysis"}).content.decode()
        assert "<script>alert(1)</script>" not in marked
        assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>dialysis</mark>" in marked
        # The box keeps what was typed, as text (it is drawn once with a stand-in, then what was typed put in its place).
        typed = 'dialysis "<b>&'
        boxed = client.get("/search/", {"q": typed}).content.decode()
        assert re.search(r'<input[^>]*id="search-q"[^>]*value="dialysis &#34;&lt;b&gt;&amp;"', boxed), boxed
        assert "portal-search-typed" not in boxed and "<b>&" not in boxed
        # Pages of 20, with a link to the next.
        page_one = client.get("/search/", {"q": "stp"}).content.decode()
        assert len(RESULT_LINK.findall(page_one)) == 20 and "?q=stp&amp;page=2" in page_one
        assert len(RESULT_LINK.findall(client.get("/search/", {"q": "stp", "page": 2}).content.decode())) == 20

    def test_beyond_the_caps_the_page_says_more_than_and_offers_the_best(self, client, found, staff, monkeypatch):
        from search import query

        client.force_login(staff)
        monkeypatch.setattr(query, "COUNT_CAP", 5)
        monkeypatch.setattr(query, "CANDIDATES", 10)
        html = client.get("/search/", {"q": "london"}).content.decode()
        assert "Organisations (more than 5)" in html and "Regions (1)" in html
        assert re.search(r"Showing 1 to 10 of more than \d+ results", html), html
        assert "The best 10 are shown" in html
        assert RESULT_LINK.findall(html)[:1] == ["/regions/Y56/"]  # the best is among the candidates ranked
        # A word in more titles than are ranked: an exact title still comes first.
        assert api_client(staff).get("/api/v1/search/", {"q": "Y56"}).json()["results"][0]["key"] == "Y56"
        trusts = api_client(staff).get("/api/v1/search/", {"q": "trust", "kind": "organisation"}).json()
        assert trusts["count"] == 10 and len(trusts["results"]) == 10

    def test_each_list_its_api_and_its_suggestions_find_what_the_search_finds(self, client, found, staff):
        from search.documents import KIND_MODEL

        client.force_login(staff)
        api = api_client(staff)
        misses = []
        for typed, kind, title in LIST_QUERIES:
            page, listed, suggested = LISTS[kind]
            first_three = [r["title"] for r in api.get("/api/v1/search/", {"q": typed}).json()["results"][:3]]
            assert any(title in found for found in first_three), (typed, first_three)  # what the search finds
            html = unescape(client.get(page, {"q": typed}).content.decode())
            if title not in html:
                misses.append(f"{page}?q={typed}")
            response = api.get(listed, {"q": typed})
            assert response.status_code == 200, (listed, response.status_code)
            key = SearchDocument.objects.filter(kind=kind, title__contains=title).values_list("key", flat=True)[0]
            keys = {str(value) for record in response.json()["results"] for value in record.values()}
            if key not in keys:  # the record, by its key (a slug, an ODS code, a measure's code, an id)
                misses.append(f"{listed}?q={typed}")
            if suggested:
                url = suggested.format(measure=KIND_MODEL["measure"]._meta.label_lower) + quote(typed)
                labels = [r["label"] for r in client.get(url).json()]
                if not any(title in label for label in labels):
                    misses.append(f"{url}: {labels}")
        assert not misses, "\n".join(misses)
        # A place finds the work done there: London's workstreams by the region they belong to.
        html = client.get("/workstreams/", {"q": "London"}).content.decode()
        assert "No workstreams match" not in html
        london = Workstream.objects.filter(regions__ods_code="Y56").values_list("title", flat=True)
        assert any(escape(title) in html for title in london), html

    def test_bad_input_is_named_never_a_500(self, client, found, staff):
        client.force_login(staff)
        api = api_client(staff)
        for params, field in [({"q": "x" * 201}, "q"), ({"q": "a", "kind": "spaceship"}, "kind"), ({"q": "\x00"}, "q")]:
            assert client.get("/search/", params).status_code == 400
            response = api.get("/api/v1/search/", params)
            assert response.status_code == 400 and field in response.json(), response.json()
        assert "q" in api.get("/api/v1/search/", {"kind": "region"}).json()  # the API needs something to look for
        for odd in ("'", "a:*", "!!", "(x|y", "the", "&", "-", "<->"):
            assert client.get("/search/", {"q": odd}).status_code == 200, odd
            assert api.get("/api/v1/search/", {"q": odd}).status_code == 200, odd

    def test_a_partner_finds_only_their_own_asks_in_every_kind(self, client, found):
        trust = Organisation.objects.get(ods_code="RR8")
        partner = f.UserFactory(role=Role.PARTNER)
        partner.organisation = trust
        partner.save()
        theirs = set(
            Expectation.objects.filter(
                audience="providers", stage__in=["consultation", "agreed"], region__isnull=True
            ).values_list("pk", flat=True)
        )
        # A consultation of another area's commissioners is not theirs.
        other = Expectation.objects.filter(audience="commissioners").first()
        other.stage, other.consultation_closes = "consultation", other.due_date
        other.save()
        assert other.pk not in theirs and theirs
        client.force_login(partner)
        api = api_client(partner)
        walked = set()
        for kind in KIND_LABELS:
            document = SearchDocument.objects.filter(kind=kind, archived=False).order_by("pk").first()
            assert document is not None, kind  # every kind has a record to look for
            walked.add(kind)
            results = api.get("/api/v1/search/", {"q": document.title}).json()["results"]
            for result in results:
                assert result["kind"] in ("expectation", "consultation"), (kind, result)
                assert int(result["key"]) in theirs, (kind, result)
                assert result["url"] == f"/consultations/{result['key']}/"
            for href in page_links(client, document.title):
                assert int(href.strip("/").split("/")[-1]) in theirs, (kind, href)
        assert walked == set(KIND_LABELS)
        own = api.get("/api/v1/search/", {"q": "A&E attendances"}).json()["results"]
        assert own and all(int(r["key"]) in theirs for r in own)

    def test_the_page_and_the_api_read_a_fixed_number_of_queries(self, client, found, staff):
        client.force_login(staff)
        api = api_client(staff)
        counted = {}
        client.get("/search/", {"q": "warm"}), api.get("/api/v1/search/", {"q": "warm"})  # a token's first use is noted
        # Each reads the words near a typed word (4 letters or more); the counts do not grow with the results.
        for typed in ("leeds teaching", "london", "hospital", "dischrage", "trust"):
            with CaptureQueriesContext(connection) as page:
                assert client.get("/search/", {"q": typed}).status_code == 200
            with CaptureQueriesContext(connection) as listed:
                assert api.get("/api/v1/search/", {"q": typed}).status_code == 200
            counted[typed] = (len(page), len(listed))
        assert len(set(counted.values())) == 1, counted  # one result or fifty, the same queries
        # The documents are read twice by the page: the counts, then the page's results with their words marked.
        with CaptureQueriesContext(connection) as page:
            client.get("/search/", {"q": "midlands"})  # a search not drawn before
        assert len([q for q in page.captured_queries if READS_DOCUMENTS.search(q["sql"])]) == 2, page.captured_queries


def test_abbreviations_spellings_and_hyphens_work_both_ways(client, staff, nhse):
    programme = f.ProgrammeFactory(title="Assessment of need", bodies=[nhse])
    chc = f.WorkstreamFactory(programme=programme, title="CHC assessments in hospital", body=nhse)
    written_out = f.WorkstreamFactory(programme=programme, title="NHS continuing healthcare reviews", body=nhse)
    # Spelt in the text, not the title: no title word is near enough to be read for the typed word.
    paediatric = f.WorkstreamFactory(
        programme=programme, title="Critical care", description="Paediatric beds", body=nhse
    )
    organized = f.WorkstreamFactory(programme=programme, title="Screening", description="Organized by GPs", body=nhse)

    hyphen = f.WorkstreamFactory(programme=programme, title="Clinic letters", description="Sent by e-mail", body=nhse)
    joined = f.WorkstreamFactory(
        programme=programme, title="Outpatient letters", description="Sent by email", body=nhse
    )

    def found_titles(typed):
        return {d.title for d in Search(typed).results()}

    for typed in ("email", "e-mail", "e mail", "E-Mail"):
        assert {hyphen.title, joined.title} <= found_titles(typed), typed

    assert {chc.title, written_out.title} <= found_titles("CHC")
    assert {chc.title, written_out.title} <= found_titles("continuing healthcare")
    assert paediatric.title in found_titles("pediatric")
    assert organized.title in found_titles("organised")
    assert found_titles("nice") == set()  # an everyday word typed in lower case is not an abbreviation


def test_documents_follow_edits_renames_and_regions(client, staff, nhse):
    programme = f.ProgrammeFactory(title="Elective recovery", bodies=[nhse])
    region = f.RegionFactory(name="Wessex")
    workstream = f.WorkstreamFactory(programme=programme, title="Theatre scheduling", body=nhse)
    workstream.regions.add(region)

    def kinds_found(typed):
        return {(d.kind, d.title) for d in Search(typed).results()}

    assert ("workstream", "Theatre scheduling") in kinds_found("wessex")
    assert ("workstream", "Theatre scheduling") in kinds_found("elective")
    programme.title = "Planned care recovery"
    programme.save()
    assert ("workstream", "Theatre scheduling") in kinds_found("planned care")
    assert ("workstream", "Theatre scheduling") not in kinds_found("elective")
    region.name = region.short_name = "Solent"  # a region is named by its short name
    region.save()
    assert ("workstream", "Theatre scheduling") in kinds_found("solent")
    workstream.regions.remove(region)
    assert ("workstream", "Theatre scheduling") not in kinds_found("solent")
    workstream.archive()
    assert ("workstream", "Theatre scheduling") not in kinds_found("theatre")
    assert ("workstream", "Theatre scheduling") in {
        (d.kind, d.title) for d in Search("theatre", archived=True).results()
    }
    # A bulk write sends no signal: the rebuild catches it up.
    Workstream.all_objects.filter(pk=workstream.pk).update(title="Operating lists", archived_at=None)
    assert ("workstream", "Operating lists") not in kinds_found("operating")
    call_command("rebuild_search", stdout=io.StringIO())
    assert ("workstream", "Operating lists") in kinds_found("operating")


def make_many_documents():
    """30,000 documents (as many as England's records) worded as the scale data is, and 100,000 title words,
    analysed. (With fewer than some 30,000 words PostgreSQL rightly scans them rather than read their index.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO search_searchdocument (source, record_id, kind, key, title, code, belongs_to, text,
                   archived, vector)
               SELECT 'programmes.workstream', g, 'workstream', g::text, t.title, '', 'Programme ' || (g % 2000),
                      'Work with providers and commissioners', false,
                      setweight(to_tsvector('english', t.title), 'A')
                      || setweight(to_tsvector('english', 'Programme ' || (g % 2000)), 'B')
                      || setweight(to_tsvector('english', 'Work with providers and commissioners'), 'C')
               FROM generate_series(1, 30000) g,
                    LATERAL (SELECT 'Workstream ' || g || ' ' || (ARRAY['acute', 'bed', 'cancer', 'dementia',
                        'elective', 'frailty', 'imaging', 'maternity', 'stroke', 'winter'])[1 + g % 10]
                        || CASE WHEN g % 2999 = 0 THEN ' telehealth' ELSE '' END AS title) t"""
        )
        cursor.execute(
            "INSERT INTO search_searchword (word) SELECT 'word' || g || (ARRAY['acute', 'cancer', 'winter'])[1 + g % 3]"
            " FROM generate_series(1, 100000) g UNION SELECT 'telehealth'"
        )
        cursor.execute("ANALYZE search_searchdocument")
        cursor.execute("ANALYZE search_searchword")


@pytest.fixture(scope="class")
def many_documents_once(django_db_setup, django_db_blocker):
    """Made once (a few seconds) for the class of tests that explain how they are read, which only read them;
    the class is one xdist group, so one worker makes them."""
    yield from shared_test_data(django_db_blocker, make_many_documents)


@pytest.fixture
def many_documents(db, many_documents_once):
    """England's number of search documents and title words (`make_many_documents`)."""


def explained(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


READS_DOCUMENTS = re.compile(r'\b(?:FROM|JOIN)\s+"?search_searchdocument\b', re.I)
READS_SEARCH = re.compile(r'\b(?:FROM|JOIN)\s+"?search_search(?:document|word)\b', re.I)


@pytest.mark.xdist_group("search-englands-scale")
class TestEnglandsNumberOfDocuments:
    """The plans of the search's statements on England's number of documents, made once for the class
    (`many_documents_once`)."""

    def test_the_search_reads_its_indexes(self, many_documents):
        search = Search("telehealth")
        plan = search.results()[:20].explain()
        # The candidates: an exact title or code, the titles' words, then (fewer than enough titles) the vector.
        for index in ("search_document_title ", "search_document_code", "search_document_title_vector"):
            assert index in plan, plan
        assert "Bitmap Index Scan on search_document_vector " in plan + " ", plan
        assert "Seq Scan on search_searchdocument" not in plan, plan
        # Each kind counted up to its cap, from the vector's index for that kind.
        counts_plan = explained(*search.counts_sql())
        assert "search_document_vector_workstream" in counts_plan, counts_plan
        assert "search_document_vector_region" in counts_plan, counts_plan
        assert "Seq Scan on search_searchdocument" not in counts_plan, counts_plan
        # A word in every title: only CANDIDATES of them are ranked, and the vector is not read past the titles.
        common = Search("workstream")
        analysed = common.results()[:20].explain(analyze=True)
        read = rf"CTE titled_all\n\s*->  .*rows={TITLES_READ} loops=1"  # no further than the titles read
        assert re.search(read, analysed), analysed
        assert re.search(r"Index Scan using search_searchdocument_pkey .*rows=200 loops=1", analysed), analysed
        assert re.search(r"Index Cond: \(id = ANY \(\$\d+\)\)", analysed), analysed  # the candidates, by id
        assert re.search(r"CTE anywhere\n\s*->  .* Scan on search_searchdocument .*\(never executed\)", analysed), (
            analysed
        )
        assert common.counts() == {"workstream": 101}  # counted no further than its cap
        # Each kind's matches are planned for all their rows (a word in every document is rightly a scan here) and
        # read no further than the cap.
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE) " + common.counts_sql()[0], common.counts_sql()[1])
            counted = "\n".join(row[0] for row in cursor.fetchall())
        assert re.search(r"CTE Scan on found_1 .*rows=101 loops=1", counted), counted
        # The page: the candidates by id, ranked, and only the page's rows marked (after its LIMIT).
        page = explained(*search.page_sql(0, 20))
        for index in ("search_document_title ", "search_document_code", "search_document_title_vector"):
            assert index in page, page
        assert "Seq Scan on search_searchdocument" not in page, page
        assert re.search(r"Index Cond: \(id = ANY \(\$\d+\)\)", page), page
        assert page.index("Subquery Scan on page") < page.index("Limit"), page  # ts_headline above the LIMIT
        with connection.cursor() as cursor:
            sql, params = near_sql(["telehaelth", "acuet"])
            cursor.execute("EXPLAIN " + sql, params)
            near_plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "search_word_trgm" in near_plan, near_plan
        assert {d.title for d in Search("telehaelth").results()} == {d.title for d in search.results()}

    @pytest.mark.usefixtures("render_every_time")
    def test_what_the_search_page_and_the_api_run_reads_the_indexes(self, client, many_documents, nhse):
        """Every statement /search/ and /api/v1/search/ run that reads the documents or their words, explained on
        England's number of them: read from their indexes (the words' trigram index for a typo), never scanned."""
        staff = f.UserFactory(role=Role.STAFF, bodies=[nhse])
        client.force_login(staff)
        api = api_client(staff)
        for typed in ("telehealth", "telehaelth", "acute telehealth"):
            for where, get in (("page", client.get), ("API", api.get)):
                url = "/search/" if where == "page" else "/api/v1/search/"
                with CaptureQueriesContext(connection) as ran:
                    assert get(url, {"q": typed}).status_code == 200
                searched = [query["sql"] for query in ran.captured_queries if READS_SEARCH.search(query["sql"])]
                assert len(searched) >= 2, (where, typed, searched)  # the words near what was typed, the documents
                for sql in searched:
                    plan = explained(sql, None)
                    assert "Seq Scan on search_search" not in plan, (where, typed, sql, plan)
                    assert "Index" in plan, (where, typed, sql, plan)


def test_an_appointment_is_found_by_the_person_the_post_and_the_bodies_sharing_it(nhse, nhsi):
    person = f.PersonFactory(name="Ada Lovelace")
    post = f.AppointmentFactory(person=person, title="Analytics lead")
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    share = f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=50)

    def posts(typed):
        return {d.title for d in Search(typed, kind="appointment").results()}

    assert posts("lovelace analytics") == {"Ada Lovelace: Analytics lead"}
    assert posts("improvement") == {"Ada Lovelace: Analytics lead"}
    assert {d.title for d in Search("analytics", kind="person").results()} == {"Ada Lovelace"}  # by the post
    share.delete()
    assert posts("improvement") == set()
    person.name = "Ada King"
    person.save()
    assert posts("king analytics") == {"Ada King: Analytics lead"}
