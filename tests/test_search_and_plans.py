"""Search reads a stored, indexed vector; lists count only up to a cap; the big tables' searches and
filters are planned on indexes, never a sequential scan of the workstreams.

The plans are PostgreSQL's own choice on realistic statistics: a few thousand workstreams made with
generate_series, then ANALYZE (never ``enable_seqscan = off``, which would prove nothing).
"""

import pytest
from django.db import connection
from django.db.models import F
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from measures.filters import MeasurementFilterSet
from measures.views import measurements
from nhs_joint import generic, page_ids
from nhs_joint.filters import Matches, TsQuery, prefix_query
from programmes.filters import WorkstreamFilterSet
from programmes.models import Workstream
from programmes.views import workstreams
from regions.models import Region
from search import query as searching
from search.models import SearchDocument
from tests import factories as f
from tests.conftest import shared_test_data

pytestmark = pytest.mark.django_db


class TestPrefixQuery:
    def test_every_word_is_required_and_the_last_is_a_prefix(self):
        assert prefix_query("discharge to assess") == "'discharge' & 'to' & 'assess':*"

    def test_nothing_typed_becomes_tsquery_syntax(self):
        assert prefix_query("a' | !b & (c:*)") == "'a' & 'b' & 'c':*"
        assert prefix_query("!!! ''' &") is None
        assert prefix_query("word " * 100).count("'word'") == 12

    def test_letters_beyond_ascii_are_words(self):
        assert prefix_query("Café") == "'Café':*"


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


class TestSearch:
    def test_as_people_type_the_last_word_matches_the_start_of_words(self, client, staff, nhse):
        f.WorkstreamFactory(title="Discharge to assess", body=nhse)
        f.WorkstreamFactory(title="Winter planning", body=nhse)
        client.force_login(staff)
        for typed in ("dis", "dischar", "discharge", "discharge to ass"):
            html = client.get(f"/workstreams/?q={typed}").content.decode()
            assert "Discharge to assess" in html and "Winter planning" not in html, typed

    def test_stemmed_and_odd_input_is_not_an_error(self, client, staff, nhse):
        f.WorkstreamFactory(title="Commissioned services", body=nhse)
        client.force_login(staff)
        assert "Commissioned services" in client.get("/workstreams/?q=commissioning").content.decode()
        for odd in ("'", "a:*", "!!", "(x|y", "the"):
            response = client.get("/workstreams/", {"q": odd})
            assert response.status_code == 200, odd

    def test_best_matches_first_unless_an_order_is_chosen(self, client, staff, nhse):
        f.WorkstreamFactory(title="Aaa workforce plan", description="Discharge is mentioned once here.", body=nhse)
        f.WorkstreamFactory(title="Zzz discharge", description="Discharge of patients, discharge home.", body=nhse)
        client.force_login(staff)
        html = client.get("/workstreams/?q=discharge").content.decode()
        assert html.index("Zzz discharge") < html.index("Aaa workforce plan")
        html = client.get("/workstreams/?q=discharge&ordering=title").content.decode()
        assert html.index("Aaa workforce plan") < html.index("Zzz discharge")

    def test_the_vector_follows_edits(self, client, staff, nhse):
        workstream = f.WorkstreamFactory(title="Outpatient follow-up", body=nhse)
        client.force_login(staff)
        assert "Outpatient follow-up" not in client.get("/workstreams/?q=virtual").content.decode()
        workstream.description = "Virtual clinics"
        workstream.save()
        assert "Outpatient follow-up" in client.get("/workstreams/?q=virtual").content.decode()

    def test_the_api_searches_the_same_way(self, staff, nhse):
        f.WorkstreamFactory(title="Discharge to assess", body=nhse)
        f.WorkstreamFactory(title="Winter planning", body=nhse)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
        data = client.get("/api/v1/workstreams/?q=dischar").json()
        assert [w["title"] for w in data["results"]] == ["Discharge to assess"]


class TestCappedCount:
    def test_beyond_the_cap_the_count_says_more_than(self, client, staff, nhse, monkeypatch):
        monkeypatch.setattr(generic, "COUNT_CAP", 60)
        programme = f.ProgrammeFactory(bodies=[nhse])
        for i in range(70):
            f.WorkstreamFactory(programme=programme, title=f"Workstream {i:02d}", body=nhse)
        client.force_login(staff)
        html = client.get("/workstreams/").content.decode()
        assert "Showing 1 to 50 of more than 60 workstreams" in html
        assert "Page 2<" in html and "Page 2 of" not in html
        second = client.get("/workstreams/?page=2").content.decode()
        assert "Showing 51 to 70 of 70 workstreams" in second  # the page asked for is counted to its end
        few = client.get("/workstreams/?q=workstream&programme=" + programme.slug).content.decode()
        assert "of more than 60" in few
        monkeypatch.setattr(generic, "COUNT_CAP", 1000)
        assert "Showing 1 to 50 of 70 workstreams" in client.get("/workstreams/").content.decode()

    def test_a_search_page_is_read_with_its_count_from_one_reading_of_the_matches(self, client, staff, nhse):
        programme = f.ProgrammeFactory(bodies=[nhse])
        for i in range(60):  # ranked apart by how often their text says it, ties by key
            f.WorkstreamFactory(
                programme=programme, title=f"Plan {i:02d}", description="winter " * (1 + i % 4), body=nhse
            )
        f.WorkstreamFactory(programme=programme, title="Stroke pathway", description="stroke", body=nhse)
        filterset = WorkstreamFilterSet(QueryDict("q=winter"), queryset=workstreams.list.queryset())
        expected = [w.title for w in filterset.qs]  # the list's own order: best match first, then by key
        assert len(expected) == 60 and expected != sorted(expected)
        client.force_login(staff)
        with CaptureQueriesContext(connection) as page:
            html = client.get("/workstreams/?q=winter&page=2").content.decode()
        assert "Showing 51 to 60 of 60 workstreams" in html
        assert [title for title in expected[50:] if f">{title}<" in html] == expected[50:]
        # The matches are read once, ranked and counted together: no second reading of them to count.
        counts = [q["sql"] for q in page.captured_queries if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT")]
        assert not counts, counts
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
        data = api.get("/api/v1/workstreams/", {"q": "winter", "page": 2, "page_size": 20}).json()
        assert (data["count"], data["count_exact"]) == (60, True)
        assert [w["title"] for w in data["results"]] == expected[20:40]


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
    return client


def documents_page(query):
    """What reads a page of the workstreams list searched with ``query`` from the search documents alone (None when
    the list's own tables must be read)."""
    filterset = WorkstreamFilterSet(QueryDict(query), queryset=workstreams.list.queryset())
    assert filterset.is_valid(), filterset.errors
    queryset = filterset.qs
    rank = page_ids._rank_of(queryset)
    documents = None if rank is None else rank.documents
    return documents if documents is not None and documents.lists(queryset) else None


@pytest.mark.usefixtures("render_every_time")
class TestListSearchFromDocuments:
    """A list search of live workstreams with no other filter reads the search documents alone (search.query.
    DocumentsPage): their archived flag holds whether the workstream or its programme is archived."""

    def test_only_a_search_of_the_live_list_with_no_filter_is_read_from_the_documents(self, nhse):
        workstream = f.WorkstreamFactory(title="Discharge to assess", body=nhse)
        assert documents_page("q=discharge") is not None
        assert documents_page("q=discharge&ordering=title") is None  # not ordered by the rank: as before
        region = f.RegionFactory()
        for other in (
            f"body={nhse.code}",
            f"region={region.ods_code}",
            "audience=providers",
            f"programme={workstream.programme.slug}",
        ):
            assert documents_page(f"q=discharge&{other}") is None, other

    def test_the_page_reads_the_documents_once_and_the_workstreams_only_by_id(self, client, staff, nhse):
        programme = f.ProgrammeFactory(bodies=[nhse])
        for i in range(3):
            f.WorkstreamFactory(programme=programme, title=f"Winter plan {i}", body=nhse)
        f.WorkstreamFactory(programme=programme, title="Stroke pathway", body=nhse)
        client.force_login(staff)
        api = api_client(staff)
        (
            api.get("/api/v1/workstreams/", {"q": "plan"}),
            client.get("/workstreams/", {"q": "plan"}),
        )  # a token's first use, the list's first drawing
        counted = {}
        for typed, title in (("winter", "Winter plan 2"), ("stroke", "Stroke pathway")):
            with CaptureQueriesContext(connection) as page:
                assert title in client.get("/workstreams/", {"q": typed}).content.decode()
            with CaptureQueriesContext(connection) as listed:
                assert api.get("/api/v1/workstreams/", {"q": typed}).status_code == 200
            counted[typed] = (len(page), len(listed))
            for captured in (page, listed):
                documents = [q["sql"] for q in captured.captured_queries if "search_searchdocument" in q["sql"]]
                assert len(documents) == 1 and "programmes_workstream" not in documents[0], documents
                by_id = [q["sql"] for q in captured.captured_queries if 'FROM "programmes_workstream"' in q["sql"]]
                assert all("search_searchdocument" not in sql for sql in by_id), by_id
        assert len(set(counted.values())) == 1, counted  # three results or one, the same queries

    def test_an_archived_workstream_or_programme_is_never_found_in_the_live_list(self, client, staff, nhse):
        programme = f.ProgrammeFactory(bodies=[nhse])
        kept = f.WorkstreamFactory(programme=programme, title="Discharge to assess", body=nhse)
        other = f.WorkstreamFactory(title="Discharge lounge", body=nhse)
        client.force_login(staff)
        api = api_client(staff)

        def found():
            html = client.get("/workstreams/", {"q": "discharge"}).content.decode()
            titles = [w["title"] for w in api.get("/api/v1/workstreams/", {"q": "discharge"}).json()["results"]]
            assert sorted(t for t in (kept.title, other.title) if t in html) == sorted(titles), (html, titles)
            return set(titles)

        assert found() == {kept.title, other.title}
        programme.archive()  # its workstream's document is archived with it, in the same transaction
        assert SearchDocument.objects.get(source="programmes.workstream", record_id=kept.pk).archived
        assert found() == {other.title}
        programme.restore()
        assert found() == {kept.title, other.title}
        other.archive()
        assert found() == {kept.title}
        archived = client.get("/workstreams/", {"q": "discharge", "archived": "yes"}).content.decode()
        assert other.title in archived and kept.title not in archived

    def test_past_the_candidates_every_match_is_shown_once_the_likeliest_first(self, staff, nhse, monkeypatch):
        monkeypatch.setattr(searching, "LIST_CANDIDATES", 3)
        monkeypatch.setattr(page_ids, "DEEP_OFFSET", 4)  # from the second page: never the exact order kept for a list
        programme = f.ProgrammeFactory(bodies=[nhse])
        # The last said most often: it ranks above the other plans, but is read after the first candidates.
        described = [
            f.WorkstreamFactory(programme=programme, title=f"Plan {i}", description="winter " * (1 + i // 5), body=nhse)
            for i in range(6)
        ]
        titled = [f.WorkstreamFactory(programme=programme, title=f"Winter {i}", body=nhse) for i in range(3)]
        api = api_client(staff)
        pages = [api.get("/api/v1/workstreams/", {"q": "winter", "page_size": 4, "page": n}).json() for n in (1, 2, 3)]
        shown = [w["title"] for page in pages for w in page["results"]]
        assert sorted(shown) == sorted(w.title for w in described + titled), shown  # each once
        assert all(page["count"] == 9 and page["count_exact"] for page in pages)
        # Those with the word in their title are candidates whichever documents are read first, and rank first.
        assert set(shown[:3]) == {w.title for w in titled}, shown


WORDS = ["acute", "bed", "cancer", "dementia", "elective", "frailty", "imaging", "maternity", "stroke", "winter"]


@pytest.fixture(scope="class")
def many_workstreams_once(django_db_setup, django_db_blocker):
    """`make_many_workstreams`, made once for the class of tests that only ask for plans on them (each test in a
    savepoint rolled back after it); the codes of the regions."""
    yield from shared_test_data(django_db_blocker, make_many_workstreams)


@pytest.fixture
def many_workstreams(db, many_workstreams_once):
    return [Region.objects.get(ods_code=code) for code in many_workstreams_once]


def make_many_workstreams():
    """20,000 workstreams (as many as England has) of 2,000 programmes in 7 regions, worded as the scale data is, analysed."""
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")
    nhsi = f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    regions = [f.RegionFactory() for _ in range(7)]
    region_ids = [r.pk for r in regions]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO programmes_programme (title, slug, summary, description, theme, integration_stage, status,
                   start_date, version, accountable_body_id)
               SELECT 'Programme ' || g, 'programme-' || g, '', '', '', 'aligned', 'active', date '2018-04-01', 1, %s
               FROM generate_series(1, 2000) g""",
            [nhse.pk],
        )
        cursor.execute(
            """INSERT INTO programmes_workstream (programme_id, title, description, body_id, audiences, start_date)
               SELECT p.id, 'Workstream ' || g || ' ' || (%s::text[])[1 + g %% 10],
                      'Work on ' || (%s::text[])[1 + (g / 10) %% 10] || CASE WHEN g %% 1999 = 0 THEN ' telehealth' ELSE '' END
                      || ' with providers, commissioners and local systems across the region, planned and reviewed '
                      || 'by the programme board every quarter against the agreed measures of success',
                      CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, ARRAY['providers'], date '2018-04-01' + g %% 3000
               FROM generate_series(1, 20000) g
               JOIN programmes_programme p ON p.slug = 'programme-' || (1 + g %% 2000)""",
            [WORDS, WORDS, nhse.pk, nhsi.pk],
        )
        cursor.execute(
            """INSERT INTO programmes_workstream_regions (workstream_id, region_id)
               SELECT w.id, (%s::int[])[1 + (w.id + k) %% 7]
               FROM programmes_workstream w CROSS JOIN generate_series(0, 1) k""",
            [region_ids],
        )
        cursor.execute(
            """INSERT INTO programmes_measure (code, name, unit, direction, standard, comparator)
               SELECT 'plan-' || g, 'Plan measure ' || g, 'percent', 'higher', 90, '>=' FROM generate_series(1, 100) g"""
        )
        cursor.execute(
            """INSERT INTO programmes_measurement (measure_id, region_id, month, value, source)
               SELECT m.id, r.id, (date '2000-01-01' + make_interval(months => g))::date, 90, 'generated'
               FROM programmes_measure m CROSS JOIN regions_region r CROSS JOIN generate_series(0, 179) g
               WHERE m.code LIKE 'plan-%%'"""
        )
        # Their search documents (a list's q reads them, search/query.py), as rebuild_search writes them.
        cursor.execute(
            """INSERT INTO search_searchdocument (source, record_id, kind, key, title, code, belongs_to, text,
                   archived, vector)
               SELECT %s, w.id, 'workstream', w.id::text, w.title, '', p.title, w.description, false,
                      setweight(to_tsvector('english', w.title), 'A')
                      || setweight(to_tsvector('english', p.title), 'B')
                      || setweight(to_tsvector('english', w.description), 'C')
               FROM programmes_workstream w JOIN programmes_programme p ON p.id = w.programme_id""",
            [Workstream._meta.label_lower],
        )
        for table in (
            "search_searchdocument",
            "programmes_programme",
            "programmes_workstream",
            "programmes_workstream_regions",
            "programmes_measurement",
            "programmes_measure",
            "regions_region",
        ):
            cursor.execute(f"ANALYZE {table}")
    return [region.ods_code for region in regions]


def plan(queryset):
    return queryset.explain()


def plan_nodes(node):
    """A plan's nodes (EXPLAIN's JSON), each with those under it."""
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def page_plan(filterset_class, resource, query):
    filterset = filterset_class(QueryDict(query), queryset=resource.list.queryset())
    assert filterset.is_valid(), filterset.errors
    return plan(filterset.qs[:50])


class TestPlans:
    @pytest.mark.parametrize(
        "query",
        [
            "",
            "q=telehealth",
            "q=telehea",
            "programme=programme-7",
            "body=NHSE",
            "ordering=start_date",
            "region={region}",
            "region={region}&body=NHSI",
        ],
    )
    def test_a_page_of_workstreams_is_read_from_indexes(self, many_workstreams, query):
        query = query.format(region=many_workstreams[0].ods_code)
        text = page_plan(WorkstreamFilterSet, workstreams, query)
        assert "Seq Scan on programmes_workstream " not in text + " ", text
        assert "Unique" not in text, text  # no DISTINCT sorting every match before the page

    def test_a_search_uses_the_stored_vector_and_its_index(self, many_workstreams):
        # The search documents' stored vector (what the search box reads), from its index.
        text = page_plan(WorkstreamFilterSet, workstreams, "q=telehealth")
        assert "Bitmap Index Scan on search_document_vector" in text, text
        assert "Seq Scan on search_searchdocument" not in text, text
        assert "to_tsvector" not in text, text  # never computed per row

    def test_the_capped_count_of_a_search_is_read_from_the_index(self, many_workstreams):
        filterset = WorkstreamFilterSet(QueryDict("q=telehealth"), queryset=workstreams.list.queryset())
        text = plan(filterset.qs.order_by()[: generic.COUNT_CAP + 1])
        assert "Seq Scan on programmes_workstream " not in text + " ", text

    @pytest.mark.parametrize("word", ["bed", "telehealth"])
    def test_a_list_search_reads_its_likeliest_matches_from_the_documents_alone(self, many_workstreams, word):
        documents = documents_page(f"q={word}")
        sql, params = documents.page_sql(0, 50, generic.COUNT_CAP)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            found = cursor.fetchone()[0][0]["Plan"]
            matches = SearchDocument.objects.filter(kind="workstream").filter(
                Matches(F("vector"), TsQuery(documents.text))
            )
            total = matches.count()
        nodes = list(plan_nodes(found))
        assert not [n for n in nodes if n.get("Relation Name", "search_searchdocument") != "search_searchdocument"]
        scans = [n for n in nodes if n["Node Type"] in ("Bitmap Heap Scan", "Seq Scan")]
        read = sum(n["Actual Rows"] * n["Actual Loops"] for n in scans)
        # However many documents match, at most the candidates and as many titles are read (the rest never runs),
        # by the kind's indexes or by a scan stopped there (for a word in a fifth of them, as cheap).
        assert read <= 2 * (searching.LIST_CANDIDATES + 1), (read, total)
        for scan in scans:
            assert scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) < 20_000, scan
        if word == "bed":
            assert total > 3 * (searching.LIST_CANDIDATES + 1), total  # a common word: more than is read
        else:  # a rare word: found through the documents' indexes (the kind's or all kinds'), never a scan of them
            assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], nodes
            assert [n for n in nodes if (n.get("Index Name") or "").startswith("search_document_")], nodes

    # (A region alone is left out: on this data PostgreSQL may scan the measurements once rather than walk the
    # measures' index, a sound plan at this size; at England scale it walks the index.)
    @pytest.mark.parametrize("query", ["", "measure=plan-3", "measure=plan-3&region={region}"])
    def test_a_page_of_measurements_is_read_from_indexes(self, many_workstreams, query):
        query = query.format(region=many_workstreams[0].ods_code)
        text = page_plan(MeasurementFilterSet, measurements, query)
        assert "Seq Scan on programmes_measurement" not in text, text


class TestApiCount:
    def api(self, user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
        return client

    @pytest.mark.usefixtures("render_every_time")
    def test_exact_up_to_the_cap_then_the_planners_estimate(self, staff, nhse, monkeypatch):
        from nhs_joint import pagination

        programme = f.ProgrammeFactory(bodies=[nhse])
        for i in range(30):
            f.WorkstreamFactory(programme=programme, title=f"Workstream {i:02d}", body=nhse)
        client = self.api(staff)
        data = client.get("/api/v1/workstreams/?page_size=5").json()
        assert (data["count"], data["count_exact"]) == (30, True)
        monkeypatch.setattr(pagination, "COUNT_CAP", 10)
        monkeypatch.setattr(pagination.EstimatingPaginator.__init__, "__defaults__", (10, 1))
        data = client.get("/api/v1/workstreams/?page_size=5").json()
        assert data["count_exact"] is False and data["count"] >= 11 and len(data["results"]) == 5
        assert data["next"]
        last = client.get("/api/v1/workstreams/?page_size=5&page=6").json()
        assert [w["title"] for w in last["results"]] == [f"Workstream {i}" for i in range(25, 30)]

    @pytest.mark.usefixtures("render_every_time")
    def test_the_estimate_is_asked_once_per_list_and_data_version(self, staff, nhse, monkeypatch):
        from nhs_joint import pagination

        programme = f.ProgrammeFactory(bodies=[nhse])
        for i in range(12):
            f.WorkstreamFactory(programme=programme, title=f"Workstream {i:02d}", body=nhse)
        monkeypatch.setattr(pagination, "COUNT_CAP", 10)
        monkeypatch.setattr(pagination.EstimatingPaginator.__init__, "__defaults__", (10, 1))
        asked = []
        planner = pagination.EstimatingPaginator.estimate
        monkeypatch.setattr(
            pagination.EstimatingPaginator, "estimate", staticmethod(lambda qs: asked.append(1) or planner(qs))
        )
        client = self.api(staff)
        pages = [client.get(f"/api/v1/workstreams/?page_size=3&page={n}").json() for n in (1, 2, 3)]
        assert len(asked) == 1 and all(page["count_exact"] is False for page in pages)
        assert len({page["count"] for page in pages}) == 1
        # Another list (a filter) is another estimate; a saved change gives the list a new one.
        client.get(f"/api/v1/workstreams/?page_size=3&programme={programme.slug}")
        assert len(asked) == 2
        f.WorkstreamFactory(programme=programme, title="One more", body=nhse)
        client.get("/api/v1/workstreams/?page_size=3&page=2")
        assert len(asked) == 3

    def test_a_page_far_past_the_end_is_a_404_not_an_error(self, staff):
        client = self.api(staff)
        assert client.get("/api/v1/bodies/?page=835408618764371456").status_code == 404
        assert client.get("/api/v1/workstreams/?page=999999999999999999&page_size=500").status_code == 404
