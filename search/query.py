"""The search itself: what was typed becomes one tsquery (search/words.py), matched against the stored
documents' indexed vector, ranked as a person expects:

1. a record whose title or code is exactly what was typed;
2. then records with every typed word in their title or code (weight A);
3. then those with them in what they belong to (B);
4. then those with them in their own text (C);
5. then those found only through a near spelling of a word;

each band ordered by what a person most likely means (KIND_PRIOR) and PostgreSQL's ts_rank.

A common word matches thousands of documents, and ranking or counting them all costs more than the page, so:

- only the best candidates are ranked: an exact title or code (read from their indexes), then up to
  ``CANDIDATES`` documents with the words in their title or code (``title_vector``'s index) and, when
  those are fewer, as many more with them anywhere (the vector's index); the page and the API offer
  those, best first;
- each kind is counted up to ``COUNT_CAP`` (from the vector's index for that kind, whatever the word), "more
  than" beyond;
- the SQL is written once per search, not built row by row or kind by kind through the ORM (compiling
  eleven querysets cost more than running them);
- the page's results are read in one query with their words marked (``page_sql``): the page's documents
  only, and of them only what the page shows.

Archived records (and closed organisations, retired regions, withdrawn expectations) only when asked.
A partner finds only their own organisation's (or local system's) consulted and agreed asks.
"""

import copy
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from markupsafe import Markup

from asks.models import Expectation
from asks.services import PARTNER_STAGES, applies_q
from nhs_joint.filters import Matches, Rank, TsQuery

from .documents import KIND_LABELS, KIND_OF_MODEL
from .models import SearchDocument
from .words import tsquery, units

# Kinds whose documents do not cover every record of their model (only open findings have one): their
# lists match what was typed, read the same way, against their own vector.
PARTLY_DOCUMENTED = {"finding"}
KIND_NAMES_SHARED = {"expectation"}  # an expectation's document is an expectation's or a consultation's
# Kinds whose list of live records asks nothing of a record that its document does not hold (its archived flag is
# "this record or what it belongs to is archived", as the live manager's conditions): a search of such a list with
# no other filter is read from the documents alone (DocumentsPage), each ranked with these weights ({D, C, B, A})
# of its title (A) and its own text (C), as the list's own vector weighs its title and text
# (programmes/migrations/0004_search_vectors.py); what it belongs to (B) finds it but does not rank it.
LISTED_BY_DOCUMENTS = {"workstream": "{0.1, 0.4, 0.4, 1.0}"}
LIST_CANDIDATES = 1000  # a list search ranks this many of its matches, and as many more with the words in the title

NEAR_SIMILARITY = 0.4  # how near a title word must be to a misspelt word (pg_trgm similarity, 0 to 1)
NEAR_WORDS = 2  # title words read for each misspelt word
MAX_QUERY = 200
TABLE = SearchDocument._meta.db_table
CANDIDATES = 200  # documents read for ranking from the titles' index, and as many from the whole vector's
COUNT_CAP = 100  # each kind counted up to here; beyond, "more than 100"
TITLES_READ = 600  # documents with the words in their title read to choose the CANDIDATES likeliest
# Within a band, what a person most likely means by a name they share: the region before the trusts named
# after it, the programme before the posts and findings that name it. Less than a band's step of 1.
KIND_PRIOR = {
    "region": 0.4,
    "programme": 0.35,
    "local-system": 0.3,
    "measure": 0.3,
    "person": 0.25,
    "workstream": 0.2,
    "consultation": 0.2,
    "expectation": 0.15,
    "organisation": 0.15,
    "appointment": 0.1,
    "finding": 0.0,
}

# A typed word that is no word of any title, with the title words nearest to it (one part per typed word, the
# word written into it as a parameter, so that the planner reads the trigram index for it).
NEAR_PART = """(SELECT %s::text AS typed, word FROM search_searchword
    WHERE word %% %s AND similarity(word, %s) >= %s
      AND NOT EXISTS (SELECT 1 FROM search_searchword known WHERE known.word = %s)
    ORDER BY similarity(word, %s) DESC, word LIMIT %s)"""


def near_sql(typed):
    """One query for the nearest title words of every typed word: (sql, params)."""
    sql = " UNION ALL ".join([NEAR_PART] * len(typed))
    params = [value for word in typed for value in (word, word, word, NEAR_SIMILARITY, word, word, NEAR_WORDS)]
    return sql, params


START, STOP = "\ue000", "\ue001"  # marks around matched words in a headline, escaped before they become <mark>
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"


def _near_spellings(query_units):
    """Adds to each unit whose word is no title word the title words nearest to it (one query in all)."""
    typed = sorted({unit.typed for unit in query_units if unit.typed})
    if not typed:
        return
    with connection.cursor() as cursor:
        cursor.execute(*near_sql(typed))
        near = {}
        for word, nearest in cursor.fetchall():
            near.setdefault(word, []).append(nearest)
    for unit in query_units:
        for word in near.get(unit.typed, ()):
            unit.alternatives.append([word])


@dataclass
class Search:
    """What was typed, read: the documents that match it (a queryset, best first) and their count per kind."""

    text: str
    kind: str = ""
    archived: bool = False
    user: object = None

    def __post_init__(self):
        self.text = " ".join(self.text.split())[:MAX_QUERY]
        # As typed (with abbreviations, spellings and hyphens read), then with near spellings added: a record
        # found only through a near spelling ranks below those found as typed.
        self.typed_units = units(self.text)
        self.units = copy.deepcopy(self.typed_units)
        _near_spellings(self.units)

    @property
    def is_empty(self):
        return not self.units

    def _searched(self, kind=""):
        """The documents this search may find, matched or not, as an SQL condition and its parameters (None
        when there are none): of ``kind`` if given, live ones unless archived ones are asked for, and for a
        partner only their own asks."""
        conditions, params = [], []
        if kind:
            conditions.append("kind = %s")
            params.append(kind)
        if not self.archived:
            conditions.append("NOT archived")
        if getattr(self.user, "is_partner", False):
            target = self.user.partner_of
            if target is None:
                return None
            theirs = Expectation.objects.filter(applies_q(target), stage__in=PARTNER_STAGES).values("pk")
            theirs_sql, theirs_params = theirs.query.sql_with_params()
            conditions.append(f"source = %s AND record_id IN ({theirs_sql})")
            params += [Expectation._meta.label_lower, *theirs_params]
        if self.is_empty:
            return None
        return " AND ".join(conditions) or "TRUE", params

    def _matching(self, kind="", vector="vector"):
        """The documents of ``kind`` (else any) whose ``vector`` (or ``title_vector``) matches: (sql, params)
        of a condition, or None."""
        searched = self._searched(kind)
        if searched is None:
            return None
        sql, params = searched
        return f"{sql} AND {vector} @@ to_tsquery('english'::regconfig, %s)", [*params, tsquery(self.units)]

    def counts_sql(self):
        """The counts' query (sql, params), each kind counted up to COUNT_CAP + 1 from its own index, or None.

        Each kind's matches are a CTE, planned for all their rows and read only as far as the count's LIMIT:
        planned under the LIMIT, a common word was read by a scan of the whole table, stopping at the cap's
        row (fast where the word is everywhere, the whole table where its records are few or last)."""
        found, parts, params = [], [], []
        for number, kind in enumerate(KIND_LABELS):
            matching = self._matching(kind)
            if matching is None:
                return None
            found.append(f"found_{number} AS MATERIALIZED (SELECT 1 FROM {TABLE} WHERE {matching[0]})")
            parts.append(f"(SELECT %s, count(*) FROM (SELECT 1 FROM found_{number} LIMIT %s) capped)")
            params += matching[1]
        part_params = [value for kind in KIND_LABELS for value in (kind, COUNT_CAP + 1)]
        return "WITH " + ", ".join(found) + " " + " UNION ALL ".join(parts), [*params, *part_params]

    def counts(self):
        """{kind: number of matches, or COUNT_CAP + 1 for more than COUNT_CAP}, in the page's order of kinds:
        one query (whichever kind is chosen)."""
        query = self.counts_sql()
        if query is None:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(*query)
            found = dict(cursor.fetchall())
        return {kind: found[kind] for kind in KIND_LABELS if found.get(kind)}

    def candidates_sql(self):
        """The ids of the documents worth ranking (sql, params): those titled or coded exactly as typed; the
        CANDIDATES likeliest of those with the words in their title or code (of the first TITLES_READ of them,
        those of the kinds a person most likely means, then the shortest titles: what ``score_sql`` ranks
        first); and, when those are fewer, as many more with the words anywhere (read only then: a title's
        match outranks any other, so with CANDIDATES of them nothing else would be shown). A title's words
        are the vector's too: what matches the title matches the vector. (The last part's condition is
        PostgreSQL's one-time filter: when false, nothing under it runs.)"""
        (anywhere, params), (titled, titled_params) = (
            self._matching(self.kind),
            self._matching(self.kind, "title_vector"),
        )
        typed = self.text.lower()
        priors = " ".join("WHEN %s THEN %s" for _ in KIND_PRIOR)
        prior_params = [value for kind, weight in KIND_PRIOR.items() for value in (kind, weight)]
        # The CTEs are planned for all their rows (so a rare word reads the index, never a scan stopped at a
        # LIMIT that a rare word never reaches) and run only as far as their rows are read.
        sql = (
            f"WITH titled_all AS MATERIALIZED (SELECT id, kind, length(title) AS length FROM {TABLE} WHERE {titled}), "
            "titled AS MATERIALIZED (SELECT id FROM (SELECT * FROM titled_all LIMIT %s) first_read"
            f" ORDER BY CASE kind {priors} ELSE 0.0 END DESC, length LIMIT %s), "
            f"anywhere AS MATERIALIZED (SELECT id FROM {TABLE} WHERE {anywhere}) "
            f"(SELECT id FROM {TABLE} WHERE {anywhere} AND (lower(title) = %s OR lower(code) = %s) LIMIT %s) "
            "UNION SELECT id FROM titled "
            "UNION (SELECT id FROM anywhere WHERE (SELECT count(*) FROM titled) < %s LIMIT %s)"
        )
        return sql, [
            *titled_params,
            TITLES_READ,
            *prior_params,
            CANDIDATES,
            *params,
            *params,
            typed,
            typed,
            CANDIDATES,
            CANDIDATES,
            CANDIDATES,
        ]

    def score_sql(self):
        """A document's score (sql, params): 10 for an exact title or code, then its band (3 title, 2 what it
        belongs to, 1 its text, 0 a near spelling only), what a person most likely means by its kind, and half
        its ts_rank (0 to 1, divided by 1 + the log of its length: a short title that is all match, such as a
        region's name, before a long one that mentions it)."""
        typed = self.text.lower()
        query = "to_tsquery('english'::regconfig, %s)"
        priors = " ".join("WHEN %s THEN %s" for _ in KIND_PRIOR)
        sql = (
            "CASE WHEN lower(code) = %s OR lower(title) = %s THEN 10.0 ELSE 0.0 END"
            f" + CASE WHEN vector @@ {query} THEN 3.0 WHEN vector @@ {query} THEN 2.0"
            f" WHEN vector @@ {query} THEN 1.0 ELSE 0.0 END"
            f" + CASE kind {priors} ELSE 0.0 END"
            f" + ts_rank(vector, {query}, 1) / 2.0"
        )
        params = [
            typed,
            typed,
            tsquery(self.typed_units, "A"),
            tsquery(self.typed_units, "AB"),
            tsquery(self.typed_units),
            *[value for kind, weight in KIND_PRIOR.items() for value in (kind, weight)],
            tsquery(self.units),
        ]
        return sql, params

    def results(self):
        """The best candidates among the matching documents (``candidates_sql``), best first, with their
        ``score`` (a queryset: slice it for a page). Their text and vector are not read: a result shows neither."""
        if self._searched() is None:
            return SearchDocument.objects.none()
        return (
            SearchDocument.objects.filter(candidate_ids(*self.candidates_sql()))
            .defer("text", "vector")
            .annotate(score=RawSQL(*self.score_sql(), output_field=FloatField()))
            .order_by("-score", "title", "pk")
        )

    def page_sql(self, offset, limit):
        """One page of ``results`` with each document's title and what it belongs to marked (sql, params): the
        candidates ranked, the page's documents chosen, and only theirs marked (ts_headline reads the words
        again, so it runs on the page's rows, after the LIMIT)."""
        score, score_params = self.score_sql()
        candidates, candidate_params = self.candidates_sql()
        query = "to_tsquery('english'::regconfig, %s)"
        sql = (
            "SELECT id, kind, key, archived, score,"
            f" ts_headline('english'::regconfig, title, {query}, %s),"
            f" ts_headline('english'::regconfig, belongs_to, {query}, %s)"
            f" FROM (SELECT id, kind, key, archived, title, belongs_to, {score} AS score FROM {TABLE}"
            f" WHERE id = ANY(ARRAY({candidates})) ORDER BY score DESC, title, id LIMIT %s OFFSET %s) page"
            " ORDER BY score DESC, title, id"
        )
        text = tsquery(self.units)
        params = [text, HEADLINE_OPTIONS, text, HEADLINE_OPTIONS, *score_params, *candidate_params, limit, offset]
        return sql, params

    def page(self, offset, limit):
        """The documents ``offset`` to ``offset + limit`` of ``results``, each with its ``score`` and its
        ``marked_title`` and ``marked_context`` (safe HTML): one query."""
        if self._searched() is None or limit <= 0:
            return []
        with connection.cursor() as cursor:
            cursor.execute(*self.page_sql(offset, limit))
            rows = cursor.fetchall()
        found = []
        for pk, kind, key, archived, score, title, belongs in rows:
            document = SearchDocument(id=pk, kind=kind, key=key, archived=archived)
            document.score = score
            document.marked_title, document.marked_context = marked(title), marked(belongs)
            found.append(document)
        return found


class RankedResults:
    """A search's results as a paginator's list: a page sliced from it is read in one query (Search.page), with
    its words marked; how many there are is known beforehand (the counts), so it is never counted here."""

    def __init__(self, search, count):
        self.search = search
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RankedResults are read a page (a slice) at a time")
        start = index.start or 0
        stop = self.count if index.stop is None else min(index.stop, self.count)
        return self.search.page(start, stop - start)


def candidate_ids(sql, params):
    """``id = ANY(ARRAY(…))``: the candidates' ids are worked out first, then each document read by its id (the
    planner cannot misjudge how many there are and scan the table instead)."""
    return RawSQL(f"{TABLE}.id = ANY(ARRAY({sql}))", params, output_field=BooleanField())


def marked(headline):
    """A headline's text escaped, then its marks made <mark> elements: nothing a record says becomes HTML."""
    text = str(escape(headline or ""))
    return Markup(text.replace(START, "<mark>").replace(STOP, "</mark>"))


def matching_records(queryset, text, vector):
    """Which records of ``queryset`` the search box finds for ``text``, and how to rank them: every list's
    ``q``, the API lists' and the suggestions of long lists (nhs_joint.filters.PortalFilterSet.search) come
    here.

    What was typed is read as the search reads it (abbreviations both ways, spellings, stems, hyphens, near
    spellings: ``Search``). A kind with a document per record is matched by its documents, as on the search
    page (a workstream is found by its programme, regions and bodies too): ``id IN (their record_id)``, read
    from the index of that kind's documents. Any other is matched by ``vector``, the list's own (stored or
    computed). Either is ranked by the list's own vector, so a record with the words in its own text comes
    before one found only by what it belongs to, with no second look-up per record. For a kind of
    ``LISTED_BY_DOCUMENTS`` the ranking also carries how to read a page of the list from the documents alone
    (``DocumentsPage``), which nhs_joint.page_ids.ranked_page uses when the list asks nothing else.

    Returns (condition, ranking), or None when nothing typed is a word.
    """
    search = Search(text)
    if search.is_empty:
        return None
    query = TsQuery(tsquery(search.units))
    rank = Rank(vector, query)
    kind = KIND_OF_MODEL.get(queryset.model)
    if kind is None or kind.name in PARTLY_DOCUMENTED:
        return Q(Matches(vector, query)), rank
    if kind.name in KIND_NAMES_SHARED:
        documents = SearchDocument.objects.filter(source=kind.source)
    else:
        documents = SearchDocument.objects.filter(kind=kind.name)  # that kind's own index, and only its source
    condition = Q(pk__in=documents.filter(Matches(F("vector"), query)).values("record_id"))
    if kind.name in LISTED_BY_DOCUMENTS:
        rank.documents = DocumentsPage(kind, tsquery(search.units), condition)
    return condition, rank


class DocumentsPage:
    """A page of a list search read from the search documents alone (``LISTED_BY_DOCUMENTS``), for a list that asks
    nothing else of its records: the list's own tables are read only for the page's records, by id.

    A common word matches thousands of records, and reading and ranking them all (with the joins that check each is
    live) is what made a list search cost ten times as much at ten times the records. So only the likeliest are
    ranked: the first ``LIST_CANDIDATES`` matching documents the kind's index gives, and, when there are more, up
    to as many with the words in their title (a title's match ranks above any other, so those are the ones the
    first pages show). When the matches are fewer, every one is a candidate: the list is ranked exactly as before.
    The candidates come first, best first; a page past them (more than ``LIST_CANDIDATES`` matches, from page 21)
    reads the rest of the matches, best first, after them, so that no record is shown twice or never. The count is
    read up to the paginator's limit (the list's cap, or the page asked for) from the same documents."""

    def __init__(self, kind, text, condition):
        self.kind = kind
        self.text = text  # the tsquery
        self.condition = condition  # the list's q (a Q on the records' ids)
        self.answered = (None, None)  # the query last asked about, and the answer (a paginator asks twice)

    def lists(self, queryset):
        """Whether ``queryset`` asks nothing but what the documents answer: its conditions are exactly those of the
        kind's live records with this search's (no filter, no other manager, not the archived list)."""
        query = queryset.query
        if self.answered[0] is query:
            return self.answered[1]
        if queryset.model is not self.kind.model or query.distinct or query.combinator or query.is_sliced:
            return False
        live = self.kind.model._default_manager.filter(self.condition).query
        self.answered = (query, _where(query, queryset.db) == _where(live, queryset.db))
        return self.answered[1]

    def page_sql(self, bottom, top, limit):
        """(sql, params) of one row: the matches counted up to past ``limit`` and the ids of the records ``bottom``
        to ``top`` of the list, in its order."""
        rank = f"ts_rank(%s::float4[], ts_filter(vector, '{{a,c}}'), {QUERY}) AS rank"
        rank_params = [LISTED_BY_DOCUMENTS[self.kind.name], self.text]
        live = f"kind = %s AND NOT archived AND {{vector}} @@ {QUERY}"
        live_params = [self.kind.name, self.text]
        reach = max(LIST_CANDIDATES, limit) + 1
        # Each CTE of all the matches is planned for all its rows (so a rare word reads the index, never a scan
        # stopped at a LIMIT that it never reaches) and run only as far as its rows are read.
        sql = (
            f"WITH anywhere_all AS MATERIALIZED (SELECT record_id, {rank} FROM {TABLE}"
            f" WHERE {live.format(vector='vector')}), "
            "anywhere AS MATERIALIZED (SELECT * FROM anywhere_all LIMIT %s), "
            f"titled_all AS MATERIALIZED (SELECT record_id, {rank} FROM {TABLE}"
            f" WHERE {live.format(vector='title_vector')}), "
            # The titles are read only when the matches are more than the candidates (a one-time filter).
            "titled AS MATERIALIZED (SELECT * FROM titled_all WHERE (SELECT count(*) FROM anywhere) > %s LIMIT %s), "
            "candidates AS MATERIALIZED ((SELECT * FROM anywhere LIMIT %s) UNION SELECT * FROM titled), "
            # The rest only for a page past the candidates (a one-time filter).
            "rest AS (SELECT * FROM anywhere_all WHERE %s"
            " AND NOT record_id = ANY(ARRAY(SELECT record_id FROM candidates))) "
            "SELECT (SELECT count(*) FROM anywhere), ARRAY(SELECT record_id FROM"
            " (SELECT record_id, rank, 0 AS band FROM candidates UNION ALL SELECT record_id, rank, 1 FROM rest) ranked"
            " ORDER BY band, rank DESC, record_id LIMIT %s OFFSET %s)"
        )
        params = [
            *rank_params,
            *live_params,
            reach,
            *rank_params,
            *live_params,
            LIST_CANDIDATES,
            LIST_CANDIDATES,
            LIST_CANDIDATES,
            top > LIST_CANDIDATES,
            top - bottom,
            bottom,
        ]
        return sql, params

    def page(self, bottom, top, limit):
        """(the ids of the records ``bottom`` to ``top``, in the list's order; the matches counted up to past
        ``limit``, at least): one query."""
        with connection.cursor() as cursor:
            cursor.execute(*self.page_sql(bottom, top, limit))
            count, ids = cursor.fetchone()
        return ids, count


QUERY = "to_tsquery('english'::regconfig, %s)"


def _where(query, using):
    """A query's conditions as SQL and parameters."""
    sql, params = query.get_compiler(using).compile(query.where)
    return sql, tuple(params)
