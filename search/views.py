"""``/search/?q=``: every kind of record at once, grouped by kind with counts, best first."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from asks.models import Expectation
from nhs_joint import conditional
from organisations.models import Organisation
from regions.models import LocalHealthSystem

from .models import SearchDocument, SearchWord
from .results import BadSearch, kind_label, read, url_of

PAGE_SIZE = 20


# What the page is drawn from (nhs_joint/conditional.py): the documents, the titles' words (near spellings),
# and for a partner the expectations asked of their organisation or local system.
PAGE_MODELS = (SearchDocument, SearchWord, Expectation, Organisation, LocalHealthSystem)


@require_safe
def search(request):
    return conditional.respond(request, PAGE_MODELS, lambda: draw(request))


def draw(request):
    errors, found, counts, page = {}, [], {}, None
    try:
        query = read(request.GET, request.user)
    except BadSearch as problem:
        errors[problem.field] = str(problem)
        query = None
    if query is not None and not query.is_empty:
        counts = query.counts()
        paginator = Paginator(query.results(), PAGE_SIZE)
        paginator.count = counts.get(query.kind, 0) if query.kind else sum(counts.values())  # counted already
        page = paginator.get_page(request.GET.get("page"))
        documents = list(page.object_list)
        marks = query.highlighted(documents)
        found = [
            {
                "document": document,
                "kind": kind_label(document.kind, 1),
                "url": url_of(document, request.user),
                "title": marks[document.pk][0],
                "context": marks[document.pk][1],
            }
            for document in documents
        ]
    typed = request.GET.get("q", "") if "q" not in errors else ""
    chosen = request.GET.get("kind", "") if "kind" not in errors else ""

    def link(**changes):
        params = {"q": typed, "kind": chosen, "archived": request.GET.get("archived", "")}
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v})

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
            "found": found,
            "counts": [(kind, kind_label(kind), n, link(kind=kind, page="")) for kind, n in counts.items()],
            "total": sum(counts.values()),
            "all_link": link(kind="", page=""),
            "page": page,
            "page_links": {
                "previous": link(page=page.number - 1) if page and page.has_previous() else None,
                "next": link(page=page.number + 1) if page and page.has_next() else None,
            },
            "archived": request.GET.get("archived", "") in ("yes", "true"),
            "archived_link": link(archived="" if request.GET.get("archived") in ("yes", "true") else "yes", page=""),
        },
        status=400 if errors else 200,
    )
