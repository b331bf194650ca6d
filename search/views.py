"""``/search/?q=``: every kind of record at once, grouped by kind with counts, best first."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from asks.models import Expectation
from nhs_joint import conditional
from organisations.models import Organisation
from regions.models import LocalHealthSystem

from . import query as searching
from .models import SearchDocument, SearchWord
from .results import BadSearch, kind_label, read, url_of

PAGE_SIZE = 20


# What the page is drawn from (nhs_joint/conditional.py): the documents, the titles' words (near spellings),
# and for a partner the expectations asked of their organisation or local system.
PAGE_MODELS = (SearchDocument, SearchWord, Expectation, Organisation, LocalHealthSystem)


@require_safe
def search(request):
    return conditional.respond(request, PAGE_MODELS, lambda: render_page(request))


def number(n, capped=False):
    """A count as the page says it: beyond the cap (query.counts), "more than 100"."""
    if n > searching.COUNT_CAP and not capped:
        return f"more than {searching.COUNT_CAP:,}"
    return f"more than {n:,}" if capped else f"{n:,}"


def render_page(request):
    errors = {}
    try:
        query = read(request.GET, request.user)
    except BadSearch as problem:
        errors[problem.field] = str(problem)
        query = None
    found = _found(request, query) if query is not None and not query.is_empty else Found()
    typed = request.GET.get("q", "") if "q" not in errors else ""
    chosen = request.GET.get("kind", "") if "kind" not in errors else ""
    archived = request.GET.get("archived", "") in ("yes", "true")
    link = Links(typed, chosen, request.GET.get("archived", "")).link
    total = number(
        sum(min(n, searching.COUNT_CAP) for n in found.counts.values()),
        any(n > searching.COUNT_CAP for n in found.counts.values()),
    )
    counts_shown = {kind: number(n) for kind, n in found.counts.items()}
    return render(
        request,
        "search/results.jinja",
        {
            "page_title": f"Search results for {typed}" if typed.strip() else "Search",
            "breadcrumbs": [{"text": "Home", "href": "/"}],
            "typed": typed,
            "chosen": chosen,
            "chosen_label": kind_label(chosen).lower() if chosen else "",
            "errors": errors,
            "error_list": [{"text": message, "href": "#search-q"} for message in errors.values()],
            "found": found.results,
            "counts": [(kind, kind_label(kind), counts_shown[kind], link(kind=kind, page="")) for kind in found.counts],
            "total": total,
            "found_count": counts_shown.get(chosen, total) if chosen else total,
            "shown_count": found.shown,
            "best_only": bool(found.page) and found.count > searching.CANDIDATES,
            "all_link": link(kind="", page=""),
            "page": found.page,
            "page_links": _page_links(found.page, link),
            "archived": archived,
            "archived_link": link(archived="" if archived else "yes", page=""),
        },
        status=400 if errors else 200,
    )


@dataclass
class Found:
    """A search's results: the counts by kind, how many of the chosen kind (or all), and the page shown."""

    counts: dict = field(default_factory=dict)
    count: int = 0
    page: object = None
    results: list = field(default_factory=list)

    @property
    def shown(self):
        return self.page.paginator.count if self.page else 0


def _found(request, query):
    """The counts by kind and the page of results asked for, each result with its highlighted title and context."""
    counts = query.counts()
    count = counts.get(query.kind, 0) if query.kind else sum(counts.values())
    # Counted already; and no more than the candidates ranked (query.results), which are at least as many.
    paginator = Paginator(searching.RankedResults(query, min(count, searching.CANDIDATES)), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    results = [
        {
            "document": document,
            "kind": kind_label(document.kind, 1),
            "url": url_of(document, request.user),
            "title": document.marked_title,
            "context": document.marked_context,
        }
        for document in page.object_list
    ]
    return Found(counts=counts, count=count, page=page, results=results)


@dataclass(frozen=True)
class Links:
    """The page's address with some of its choices changed (another kind, page, or the archived records)."""

    typed: str
    chosen: str
    archived: str

    def link(self, **changes):
        params = {"q": self.typed, "kind": self.chosen, "archived": self.archived}
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v})


def _page_links(page, link):
    return {
        "previous": link(page=page.number - 1) if page and page.has_previous() else None,
        "next": link(page=page.number + 1) if page and page.has_next() else None,
    }
