"""The search itself: what was typed becomes one tsquery (search/words.py), matched against the stored
documents' indexed vector, ranked as a person expects:

1. a record whose title or code is exactly what was typed;
2. then records with every typed word in their title or code (weight A);
3. then those with them in what they belong to (B);
4. then those with them in their own text (C);
5. then those found only through a near spelling of a word;

each band ordered by what a person most likely means (KIND_PRIOR) and PostgreSQL's ts_rank.

Archived records (and closed organisations, retired regions, withdrawn expectations) only when asked.
A partner finds only their own organisation's (or local system's) consulted and agreed asks.
"""

import copy
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, Count, F, FloatField, Q, Value, When
from django.db.models.functions import Lower
from django.utils.html import escape
from markupsafe import Markup

from asks.models import Expectation
from asks.services import PARTNER_STAGES, applies_q
from nhs_joint.filters import Matches, Rank, TsQuery

from .documents import KIND_LABELS
from .models import SearchDocument
from .words import tsquery, units

NEAR_SIMILARITY = 0.4  # how near a title word must be to a misspelt word (pg_trgm similarity, 0 to 1)
NEAR_WORDS = 2  # title words read for each misspelt word
MAX_QUERY = 200
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

    def _matching(self):
        documents = SearchDocument.objects.all()
        if not self.archived:
            documents = documents.filter(archived=False)
        if getattr(self.user, "is_partner", False):
            target = self.user.partner_of
            if target is None:
                return documents.none()
            theirs = Expectation.objects.filter(applies_q(target), stage__in=PARTNER_STAGES).values("pk")
            documents = documents.filter(source="asks.expectation", record_id__in=theirs)
        if self.is_empty:
            return documents.none()
        return documents.filter(Matches(F("vector"), TsQuery(tsquery(self.units))))

    def counts(self):
        """{kind: number of matches}, in the page's order of kinds: one query."""
        found = dict(self._matching().order_by().values_list("kind").annotate(n=Count("pk")))
        return {kind: found[kind] for kind in KIND_LABELS if found.get(kind)}

    def results(self):
        """The matching documents, best first, with their ``score`` (a queryset: slice it for a page)."""
        query = TsQuery(tsquery(self.units))
        typed = self.text.lower()
        documents = self._matching()
        if self.kind:
            documents = documents.filter(kind=self.kind)
        exact = Case(
            When(Q(code_lower=typed) | Q(title_lower=typed), then=Value(10.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
        band = Case(
            When(Matches(F("vector"), TsQuery(tsquery(self.typed_units, "A"))), then=Value(3.0)),
            When(Matches(F("vector"), TsQuery(tsquery(self.typed_units, "AB"))), then=Value(2.0)),
            When(Matches(F("vector"), TsQuery(tsquery(self.typed_units))), then=Value(1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
        prior = Case(
            *[When(kind=kind, then=Value(weight)) for kind, weight in KIND_PRIOR.items()],
            default=Value(0.0),
            output_field=FloatField(),
        )
        # ts_rank (0 to 1) divided by 1 + the log of the document's length: a short title that is all match
        # (a region's name) before a long one that mentions it.
        rank = Rank(F("vector"), query, Value(1)) / Value(2.0)
        return (
            documents.alias(title_lower=Lower("title"), code_lower=Lower("code"))
            .annotate(score=exact + band + prior + rank)
            .order_by("-score", "title", "pk")
        )

    def highlighted(self, documents):
        """Each document's title and what it belongs to with the matched words marked, as safe HTML: one query."""
        if not documents:
            return {}
        sql = (
            "SELECT id, ts_headline('english'::regconfig, title, to_tsquery('english'::regconfig, %s), %s),"
            " ts_headline('english'::regconfig, belongs_to, to_tsquery('english'::regconfig, %s), %s)"
            " FROM search_searchdocument WHERE id = ANY(%s)"
        )
        text = tsquery(self.units)
        with connection.cursor() as cursor:
            cursor.execute(sql, [text, HEADLINE_OPTIONS, text, HEADLINE_OPTIONS, [d.pk for d in documents]])
            return {pk: (marked(title), marked(belongs)) for pk, title, belongs in cursor.fetchall()}


def marked(headline):
    """A headline's text escaped, then its marks made <mark> elements: nothing a record says becomes HTML."""
    text = str(escape(headline or ""))
    return Markup(text.replace(START, "<mark>").replace(STOP, "</mark>"))
