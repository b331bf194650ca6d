"""Generic pages shared by every kind of record: list, detail, create, edit, delete and history.

An app describes a kind of record once, as a ``Resource`` (its queryset, filterset,
columns, form and detail sections); the views here do the rest the same way for
every app, so that the rules of the pages (permissions, error summaries,
concurrent edits, exports, query counts) live in one place.
"""

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import ProtectedError
from django.forms import modelform_factory
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, path, reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.text import capfirst
from django.views import View
from markupsafe import Markup, escape

from . import archive, conditional, exports, failures, history, merge, page_ids, parts, permissions, prefetch
from .api import Api, unfiltered_is_known, viewset_for
from .concurrency import version_of
from .db import natural_order
from .exports import export_table
from .forms import PortalModelForm
from .pagination import COUNT_CAP, CappedPaginator
from .registry import registry
from .tables import Table
from .words import with_article

PAGE_SIZE = 50
VERSION_FIELD = "_version"


# A key no record has, that each converter takes: where it stands in the reversed address, a record's key goes.
_STAND_IN_KEYS = {"int": 917_364_285, "slug": "portal-stand-in-key", "str": "portal-stand-in-key"}


@lru_cache(maxsize=512)
def _detail_url_halves(name, converter, script_prefix):
    """What comes before and after the key in the address of a ``name`` record's page, or None when the address
    cannot be reversed with a stand-in key (a pattern narrower than its converter: the key is reversed each time)."""
    stand_in = _STAND_IN_KEYS.get(converter)
    if stand_in is None:
        return None
    try:
        address = reverse(f"{name}-detail", args=[stand_in])
    except NoReverseMatch:
        return None
    before, found, after = address.partition(str(stand_in))
    return (before, after) if found and str(stand_in) not in after else None


_KEY_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what a key keeps unquoted in its address, as reverse() keeps it


def _page_number(value):
    try:
        return max(1, min(int(value), 10**6))
    except (TypeError, ValueError):
        return 1


@dataclass(frozen=True)
class ListConfig:
    """A kind of record's list page (and its CSV export, and its API list's filters)."""

    queryset: Callable  # () -> the queryset of the list (select_related/prefetch_related set)
    filterset: type
    columns: list
    intro: str = ""  # the sentence under the list's title (and the API's description, by default)
    prefix: str | None = None  # where the list is, when not at the resource's prefix (e.g. "regions/codes")
    actions: Callable | None = None  # (user) -> [{"text", "href"}]: more buttons on the list page
    forms: Callable | None = None  # (user) -> [{"action", "text", "fields": {...}}]: POST buttons on the list
    # (queryset) -> its rows as values() (dicts, with "pk" and the record's lookup field): the page draws them by each
    # column's ``value`` (nhs_joint/tables.py) instead of reading model instances; the CSV export reads records.
    values: Callable | None = None
    # True: the queryset is the same every time (no date, setting or person in it), so the SQL of a page asked for
    # with none of the filters is compiled once per process and then only read (nhs_joint/page_ids.py: compiled).
    cache_sql: bool = False


@dataclass(frozen=True)
class DetailConfig:
    """A record's own page."""

    queryset: Callable | None = None  # () -> the queryset a record is read from; None: the list's
    template: str = "generic/detail.jinja"
    context: Callable | None = None  # (obj, request) -> dict
    summary: Callable | None = None  # (obj) -> list of (label, value) rows of the detail page
    has_history: bool = True  # False for records without a history (report runs, findings)
    # True: the queryset (this one, or the list's) is the same every time, with no date, setting or person in it,
    # so its SQL and its sections' are compiled once per process and then only read (nhs_joint/prefetch.py).
    cache_sql: bool = False


@dataclass(frozen=True)
class FormConfig:
    """The create and edit pages: without one, a kind of record is read-only in the portal."""

    form_class: type  # a PortalModelForm; model_form() makes one from a list of fields
    creatable: bool = True  # False: records are made elsewhere (by the reference data), only edited here


@dataclass(frozen=True)
class PermissionConfig:
    """Who may see and change these records; the defaults are the portal's rules for programme records."""

    view: Callable | None = None  # (user) -> Decision; None: whoever may see the portal's records
    change: Callable = permissions.can_edit  # (user, obj) -> Decision
    create: Callable = permissions.can_edit_records  # (user) -> Decision
    deletable: bool = True  # False: never deleted, on the pages or through the API
    kept_because: str = ""  # why records that are not deletable are kept, as the API's refusal says it


def model_form(model, fields, hints=None, base=PortalModelForm):
    """The form of a kind of record that needs nothing more than these ``fields`` of its model (and the rules
    of ``base``), with a ``hints`` {field name: hint in plain words} for each field without a help text."""
    form_base = type(base.__name__, (base,), {"hints": {**base.hints, **(hints or {})}})
    return modelform_factory(model, form=form_base, fields=fields)


@dataclass(frozen=True, eq=False)
class Resource:
    """One kind of record as the portal's pages show it, declared once and complete, in parts (its list, its
    record's page, its form, its permissions, its API): never changed afterwards (frozen), so that what the
    registry, the URLs and the API were made from is what it says. ``register`` adds it to the portal."""

    model: type
    name: str  # URL name prefix, e.g. "programme" gives programme-list, programme-detail ...
    prefix: str  # URL path prefix, e.g. "programmes"
    list: ListConfig
    detail: DetailConfig = DetailConfig()
    form: FormConfig | None = None  # None: read-only in the portal
    permissions: PermissionConfig = PermissionConfig()
    api: Api | None = None  # served under /api/v1/<prefix>/ too: see nhs_joint.api.Api
    lookup: str = "pk"  # the field in the record's address
    lookup_converter: str = "int"
    # Other kinds of record its pages show, beyond those related to it two steps out (a finding's records):
    # models or "app.Model" labels, which its pages' version covers (nhs_joint/conditional.py).
    reads: tuple = ()
    # (resource) -> [path()]: more pages of this kind, made with the portal's URLs (so that their views may be
    # declared after the resource, which is never changed once declared).
    extra_urls: Callable | None = None

    def page_models(self):
        """What this kind's pages and API lists are drawn from, for their version (nhs_joint/conditional.py):
        the record, what refers to it and what it refers to, what it declares it ``reads``, and the panels
        drawn under every record, and what a list's q reads (``registry.text_search_models``)."""
        models = conditional.related_models(self.model, detail=True)
        models |= {apps.get_model(model) if isinstance(model, str) else model for model in self.reads}
        models |= set(registry.text_search_models)  # what a list's q reads (its search documents)
        return models | {model for panel in registry.detail_panels for model in panel.models}

    def check_view(self, user):
        if self.permissions.view:
            self.permissions.view(user).enforce()

    @property
    def verbose_name(self):
        return str(self.model._meta.verbose_name)

    @property
    def verbose_name_plural(self):
        return str(self.model._meta.verbose_name_plural)

    @property
    def archivable(self):
        return archive.is_archivable(self.model)

    def get_object(self, value, also=None):
        """The record at ``value``, archived or not: its page, history and restoring must reach it.

        Its sections' rows are read level by level, each level in one query (nhs_joint/prefetch.py).
        ``also(record)``: more querysets read in the first of those queries (a page's panels); then the
        record is returned with their records, ``(record, [records of each])``."""
        cached = self.detail.cache_sql
        with archive.including_archived():
            queryset_of = self.detail.queryset or self.list.queryset
            try:
                if cached:
                    obj, lookups = prefetch.get(queryset_of, **{self.lookup: value})
                else:
                    queryset = queryset_of()
                    lookups = queryset._prefetch_related_lookups
                    obj = queryset.prefetch_related(None).get(**{self.lookup: value})
            except (self.model.DoesNotExist, ValueError):
                raise Http404(f"No {self.verbose_name} found.") from None
        more = also(obj) if also else ()
        with archive.including_archived():
            found = prefetch.prefetch_together([obj], lookups, using=obj._state.db, also=more, cached=cached)
        return (obj, found) if also else obj

    def list_url(self):
        return reverse(f"{self.name}-list")

    def detail_url(self, key):
        """The page of the record whose ``lookup`` field is ``key``: the address reversed once with a stand-in
        key, then the key put in its place (a list links every row: reversing each costs more than its row)."""
        return self.detail_urls()(key)

    def detail_urls(self):
        """``detail_url`` with the address's halves found once, for the rows of one page."""
        halves = _detail_url_halves(self.name, self.lookup_converter, get_script_prefix())
        if halves is None:
            return lambda key: reverse(f"{self.name}-detail", args=[key])
        before, after = halves
        # A whole number is its own address's key, as reverse() writes it; any other key is quoted as reverse() quotes it.
        return lambda key: f"{before}{key if key.__class__ is int else quote(str(key), safe=_KEY_SAFE)}{after}"

    def urls(self):
        key = f"<{self.lookup_converter}:key>"
        patterns = [
            path(f"{self.list.prefix or self.prefix}/", ListPage.as_view(resource=self), name=f"{self.name}-list"),
        ]
        if self.form and self.form.creatable:
            patterns.append(path(f"{self.prefix}/new/", EditPage.as_view(resource=self), name=f"{self.name}-create"))
        patterns += [
            path(f"{self.prefix}/{key}/", DetailPage.as_view(resource=self), name=f"{self.name}-detail"),
        ]
        if self.detail.has_history:
            patterns.append(
                path(f"{self.prefix}/{key}/history/", HistoryPage.as_view(resource=self), name=f"{self.name}-history")
            )
        if self.form:
            patterns.append(
                path(f"{self.prefix}/{key}/edit/", EditPage.as_view(resource=self), name=f"{self.name}-edit")
            )
            if self.archivable:
                patterns += [
                    path(
                        f"{self.prefix}/{key}/archive/", ArchivePage.as_view(resource=self), name=f"{self.name}-archive"
                    ),
                    path(
                        f"{self.prefix}/{key}/restore/", RestorePage.as_view(resource=self), name=f"{self.name}-restore"
                    ),
                ]
            if self.permissions.deletable:
                patterns.append(
                    path(f"{self.prefix}/{key}/delete/", DeletePage.as_view(resource=self), name=f"{self.name}-delete")
                )
        return (self.extra_urls(self) if self.extra_urls else []) + patterns

    def breadcrumbs(self, obj=None, *more):
        crumbs = [{"text": "Home", "href": "/"}, {"text": capfirst(self.verbose_name_plural), "href": self.list_url()}]
        if obj is not None:
            crumbs.append({"text": str(obj), "href": obj.get_absolute_url()})
        crumbs.extend(more)
        return crumbs


def register(*resources):
    """Adds each kind of record to the portal, and returns the URL patterns of their pages: an app's urls.py
    calls it once with its resources. Each joins ``registry.resources`` (the tests walk every kind of record's
    pages from it) and, when it has an ``api``, the API's routes (served under /api/v1/<prefix>/)."""
    patterns = []
    for resource in resources:
        registry.add_resource(resource)
        if resource.api is not None:
            registry.add_api(resource.prefix, viewset_for(resource), resource.name)
        patterns += resource.urls()
    return patterns


class ResourceView(View):
    resource: Resource = None
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        self.resource.check_view(request.user)
        return super().dispatch(request, *args, **kwargs)


class ListPage(ResourceView):
    """A list with filters, full-text search, sorting, pagination and a CSV export of the same rows."""

    http_method_names = ["get", "head"]

    def get(self, request):
        # Answered 304 when the client's copy is current: nothing is read or drawn (nhs_joint/conditional.py).
        return conditional.respond(request, self.resource.page_models(), lambda: self.render_page(request))

    def render_page(self, request):
        resource = self.resource
        show_archived = resource.archivable and request.GET.get("archived") == "yes"
        queryset, filterset = list_queryset(resource, request.GET, request.user, request=request)
        if request.GET.get("export") == "csv" and not filterset.errors:
            # A long list is exported by a worker (its page shows progress, then the file): a request that
            # streamed it would be cut off by the web server's time limit, the file silently short.
            if exports.background is not None and queryset.count() > settings.EXPORT_ROWS_IN_REQUEST:
                return exports.background(request, resource, request.GET)
            return export_table(f"{resource.prefix}.csv", resource.list.columns, queryset)

        rendering = conditional.rendering()
        paginator = CappedPaginator(
            queryset,
            PAGE_SIZE,
            cap=COUNT_CAP,
            page=_page_number(request.GET.get("page")),
            version=rendering.version if rendering is not None else None,
            read=resource.list.values,
            deep=page_ids.PAGE_DEEP_OFFSET,
            shape=(resource.name, show_archived)
            if resource.list.cache_sql and isinstance(filterset, Unfiltered)
            else None,
        )
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        table = Table(
            resource.list.columns,
            page.object_list,
            ordering=request.GET.get("ordering"),
            query=query,
            row_link=_row_link(resource) if resource.list.values else None,
        )
        export_query = query.copy()
        export_query["export"] = "csv"
        applied = filters_applied(filterset, request.GET)
        return render(
            request,
            "generic/list.jinja",
            {
                "list_filters": lambda: list_filters(request, resource, filterset, applied, show_archived),
                "resource": resource,
                "page_title": ("Archived " + str(resource.verbose_name_plural))
                if show_archived
                else capfirst(resource.verbose_name_plural),
                "breadcrumbs": [{"text": "Home", "href": "/"}],
                "show_archived": show_archived,
                "filterset": filterset,
                "filters_applied": applied,
                "table": table,
                "page": page,
                "page_links": _page_links(page, query),
                "query": query.urlencode(),
                "export_url": "?" + export_query.urlencode(),
                "can_create": resource.form is not None
                and resource.form.creatable
                and resource.permissions.create(request.user).allowed,
                "list_actions": resource.list.actions(request.user) if resource.list.actions else [],
                "list_forms": resource.list.forms(request.user) if resource.list.forms else [],
            },
            status=400 if filterset.errors else 200,
        )


def _row_link(resource):
    """The address of a list's row read as values (ListConfig.values), by the record's lookup field."""
    address, lookup = resource.detail_urls(), resource.lookup
    return lambda row: address(row[lookup])


def list_queryset(resource, query, user, request=None):
    """The rows a list page shows for ``query`` (its GET parameters): (queryset, filterset).

    A query that sets none of the list's filters is what the filterset gives for no parameters
    (``PortalFilterSet.unfiltered``, as the API's lists read it): the filterset and its form are then built only
    if the page draws them (its filters, when not kept: ``list_filters``)."""
    show_archived = resource.archivable and query.get("archived") == "yes"
    if show_archived:
        with archive.including_archived():
            base = resource.list.queryset().filter(archived_at__isnull=False)
    else:
        base = resource.list.queryset()
    filterset_class = resource.list.filterset
    if unfiltered_is_known(filterset_class) and not any(name in query for name in filterset_class.base_filters):
        queryset = filterset_class.unfiltered(base)
        filterset = Unfiltered(lambda: filterset_class(query, queryset=base, request=request))
    else:
        filterset = filterset_class(query, queryset=base, request=request)
        queryset = filterset.qs if filterset.is_valid() else base.none()
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    return natural_order(queryset), filterset


class Unfiltered:
    """The filterset of a list asked for with none of its filters: no errors and no filter applied, so built only
    when something reads more of it (the form, when the filters are drawn)."""

    def __init__(self, build):
        self._build = build
        self._built = None

    @property
    def errors(self):
        return {}

    def __getattr__(self, name):
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


# The CSRF token in a list's kept filters: each drawing has its own, put in where this stands.
_CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_MARK = "\x00csrf\x00"


def list_filters(request, resource, filterset, applied, show_archived):
    """A list page's filters (generic/list_filters.jinja): the same on every page of a list for the same query, so
    drawn once per person, list, query but its page, and data version (nhs_joint/parts.py: the page's version, so a
    committed change to what the filters offer is drawn at once), each drawing with a CSRF token of its own."""
    query = tuple(sorted((key, tuple(values)) for key, values in request.GET.lists() if key != "page"))

    def draw():
        html = render_to_string(
            "generic/list_filters.jinja",
            {"resource": resource, "filterset": filterset, "filters_applied": applied, "show_archived": show_archived},
            request,
        )
        return Markup(_CSRF_TOKEN.sub(lambda m: m.group(1) + _CSRF_MARK + m.group(2), html))

    kept = parts.kept("list-filters", resource.page_models(), (resource.name, request.user.pk, query), draw, size=len)
    return Markup(kept.replace(_CSRF_MARK, escape(get_token(request)))) if _CSRF_MARK in kept else kept


def filters_applied(filterset, query):
    """How many of the list's filters the query sets (its order, and a choice left at its default, do not count)."""
    if isinstance(filterset, Unfiltered):
        return 0
    defaults = {"region_scope": {"with_england"}}
    return sum(
        1
        for name in filterset.filters
        if name != "ordering"
        and any(value.strip() and value not in defaults.get(name, ()) for value in query.getlist(name))
    )


def _page_links(page, query):
    def link(number):
        q = query.copy()
        q["page"] = number
        return "?" + q.urlencode()

    return {
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "next": link(page.next_page_number()) if page.has_next() else None,
    }


class DetailPage(ResourceView):
    http_method_names = ["get", "head"]

    def get(self, request, key):
        return conditional.respond(request, self.resource.page_models(), lambda: self.render_page(request, key))

    def render_page(self, request, key):
        reads = {}  # the panels' querysets, read with the record's sections: panel name -> (start, end)

        def panel_reads(obj):
            querysets = []
            for panel in registry.detail_panels:
                if panel.reads is not None:
                    more = panel.reads(request, obj)
                    reads[panel.name] = (len(querysets), len(querysets) + len(more))
                    querysets += more
            return querysets

        def archived_panel_reads(obj):
            if getattr(obj, "is_archived", False):
                with archive.including_archived():
                    return panel_reads(obj)
            return panel_reads(obj)

        obj, found = self.resource.get_object(key, also=archived_panel_reads)
        rows = {name: found[start:end] for name, (start, end) in reads.items()}
        if getattr(obj, "is_archived", False):
            # An archived record's page shows what it held when it was archived.
            with archive.including_archived():
                return self.show(request, obj, rows)
        return self.show(request, obj, rows)

    def show(self, request, obj, panel_rows=None):
        resource = self.resource
        context = {
            "resource": resource,
            "object": obj,
            "page_title": str(obj),
            "breadcrumbs": resource.breadcrumbs(),
            "summary": in_words(resource.detail.summary(obj)) if resource.detail.summary else [],
            "can_edit": resource.form is not None and resource.permissions.change(request.user, obj).allowed,
            "can_delete": resource.form is not None
            and resource.permissions.deletable
            and can_delete(resource, request.user, obj),
        }
        if resource.detail.context:
            context.update(resource.detail.context(obj, request))
        panel_rows = panel_rows or {}
        context["panels"] = [
            html
            for panel in registry.detail_panels
            if (
                html := panel.render(request, obj, resource, rows=panel_rows[panel.name])
                if panel.name in panel_rows
                else panel.render(request, obj, resource)
            )
        ]
        return render(request, resource.detail.template, context)


def in_words(rows):
    """A detail page's (label, value) rows with dates and times as people write them: 29 November 2026 at
    2:48pm, never a stored timestamp. A row without a value (None or empty) is left out: a field that does not
    apply to the record is not shown, and one that applies but is empty is said in words by its summary
    ("No end date", "Never", "None named"), never as "Not given"."""
    shown = []
    for label, value in rows:
        if value is None or value == "" or (isinstance(value, dict) and not value.get("text")):
            continue
        if isinstance(value, dt.datetime):
            value = history.format_datetime(value)
        elif isinstance(value, dt.date):
            value = history.format_date(value)
        shown.append((label, value))
    return shown


class EditPage(ResourceView):
    """Create or edit a record. An edit saves only if nobody changed the record since the form was opened."""

    def get_object(self, key):
        if key is None:
            return None
        return self.resource.get_object(key)

    def check_permission(self, obj):
        user = self.request.user
        resource = self.resource
        if obj is not None and archive.is_hidden(obj):
            raise PermissionDenied(
                f"This {resource.verbose_name}, or the record it belongs to, is archived: restore it before changing it."
            )
        decision = resource.permissions.change(user, obj) if obj is not None else resource.permissions.create(user)
        decision.enforce()

    def make_form(self, obj, data=None):
        return self.resource.form.form_class(data=data, instance=obj, user=self.request.user)

    def get(self, request, key=None):
        obj = self.get_object(key)
        self.check_permission(obj)
        form = self.make_form(obj)
        return self.render(form, obj, version=version_of(obj) if obj else "", original=merge.sign_original(form))

    def post(self, request, key=None):
        obj = self.get_object(key)
        self.check_permission(obj)
        if obj is None:
            return self.create(request)
        with transaction.atomic():
            # Lock the row, then read it: two saves cannot both merge into the same version.
            list(self.resource.model._base_manager.select_for_update().filter(pk=obj.pk).order_by().values_list("pk"))
            obj = self.get_object(key)
            # The record as stored, for the page's heading: checking the form puts its values on ``obj``, and
            # a heading must not show a value that was not saved.
            stored = copy.copy(obj)
            current = version_of(obj)
            submitted_version = request.POST.get(VERSION_FIELD, "")
            outcome = merge.merge(
                lambda data=None: self.make_form(obj, data), request.POST, stale=submitted_version != current
            )
            original = merge.sign_original(self.make_form(obj))
            if outcome.conflicts:
                return self.render(
                    self.make_form(obj, data=outcome.data),
                    stored,
                    version=current,
                    original=original,
                    conflict={
                        "changes": others_changes(obj, submitted_version) if submitted_version != current else [],
                        "fields": outcome.conflicts,
                        "unchosen": outcome.unchosen,
                        "errors": [
                            {
                                "text": f"Select which {c['label'].lower()} to keep.",
                                "href": f"#{merge.CHOICE_PREFIX}{c['name']}",
                            }
                            for c in outcome.conflicts
                            if c["unchosen"]
                        ],
                        "names": merge.conflict_choices(c["name"] for c in outcome.conflicts),
                    },
                    status=409,
                )
            form = self.make_form(obj, data=outcome.data)
            if not form.is_valid():
                return self.render(form, stored, version=current, original=original, status=400)
            if outcome.nothing_changed:
                messages.info(request, f"Nothing changed: “{obj}” was left as it was.")
                return HttpResponseRedirect(obj.get_absolute_url())
            saved = form.save()
        message = f"Your changes to “{saved}” have been saved."
        if outcome.kept_theirs:
            message += " Changes made meanwhile by others were kept: " + ", ".join(outcome.kept_theirs) + "."
        messages.success(request, message)
        return HttpResponseRedirect(saved.get_absolute_url())

    def create(self, request):
        form = self.make_form(None, data=request.POST)
        if not form.is_valid():
            return self.render(form, None, version="", original="", status=400)
        with transaction.atomic():
            saved = form.save()
        messages.success(request, f"{capfirst(self.resource.verbose_name)} “{saved}” created.")
        return HttpResponseRedirect(saved.get_absolute_url())

    def render(self, form, obj, version, original="", conflict=None, status=200):
        resource = self.resource
        if obj is None:
            title = f"New {resource.verbose_name}"
            crumbs = resource.breadcrumbs()
        else:
            title = f"Edit {resource.verbose_name}: {obj}"
            crumbs = resource.breadcrumbs(obj)
        return render(
            self.request,
            "generic/form.jinja",
            {
                "resource": resource,
                "object": obj,
                "form": form,
                "page_title": title,
                "breadcrumbs": crumbs,
                "version": version,
                "version_field": VERSION_FIELD,
                "original": original,
                "original_field": merge.ORIGINAL_FIELD,
                "conflicts_field": merge.CONFLICTS_FIELD,
                "choice_prefix": merge.CHOICE_PREFIX,
                "conflict": conflict,
                "form_has_errors": bool(form.errors) or bool(conflict and conflict["unchosen"]),
                "cancel_url": obj.get_absolute_url() if obj else resource.list_url(),
            },
            status=status,
        )


def others_changes(obj, version):
    """What others changed since ``version``, field by field and in words, oldest first."""
    changes = []
    for entry in reversed(history.entries_since(obj, version)):
        for change in entry["changes"]:
            if change.get("added") or change.get("removed"):
                words = "; ".join(
                    f"{verb} " + ", ".join(item["text"] for item in items)
                    for verb, items in (("added", change.get("added")), ("removed", change.get("removed")))
                    if items
                )
            else:
                words = None
            changes.append(
                {
                    "who": entry["who"],
                    "when": entry["when"],
                    "field": change["label"],
                    "old": change["old"],
                    "new": change["new"],
                    "words": words,
                }
            )
    return changes


def can_delete(resource, user, obj):
    """Records people archive are deleted for good only by Administrators; other records by their editors."""
    if resource.archivable:
        return user.is_administrator
    return resource.permissions.change(user, obj).allowed


class ArchivePage(ResourceView):
    """Confirm, then archive: the record leaves the lists and the reports, and can be restored."""

    def get(self, request, key):
        obj = self.resource.get_object(key)
        self.resource.permissions.change(request.user, obj).enforce()
        return render(
            request,
            "generic/archive.jinja",
            {
                "resource": self.resource,
                "object": obj,
                "page_title": f"Archive {self.resource.verbose_name}: {obj}",
                "breadcrumbs": self.resource.breadcrumbs(obj),
            },
        )

    def post(self, request, key):
        obj = self.resource.get_object(key)
        self.resource.permissions.change(request.user, obj).enforce()
        if not obj.is_archived:
            with transaction.atomic():
                obj.archive()
        messages.success(
            request, f"{capfirst(self.resource.verbose_name)} “{obj}” archived. It can be restored from its page."
        )
        return HttpResponseRedirect(self.resource.list_url())


class RestorePage(ResourceView):
    """Bring an archived record back into the lists and the reports."""

    http_method_names = ["post"]

    def post(self, request, key):
        obj = self.resource.get_object(key)
        self.resource.permissions.change(request.user, obj).enforce()
        if obj.is_archived:
            with transaction.atomic():
                obj.restore()
        messages.success(request, f"{capfirst(self.resource.verbose_name)} “{obj}” restored.")
        return HttpResponseRedirect(obj.get_absolute_url())


class DeletePage(ResourceView):
    """Confirm, then delete for good; the page lists what goes with the record, or what stops it.

    A record people archive is deleted only by an Administrator, and only when nothing hangs off it.
    """

    def check(self, request, obj):
        if can_delete(self.resource, request.user, obj):
            return
        self.resource.permissions.change(request.user, obj).enforce()  # the reason this person cannot edit it
        raise PermissionDenied(
            f"Only an Administrator can delete {with_article(self.resource.verbose_name)} for good. Archive it instead."
        )

    def get(self, request, key):
        obj = self.resource.get_object(key)
        self.check(request, obj)
        return self.render(obj)

    def post(self, request, key):
        obj = self.resource.get_object(key)
        self.check(request, obj)
        name = str(obj)
        if self.resource.archivable and archive.dependants(obj):
            return self.render(obj, status=409)
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError as exc:
            return self.render(obj, protected=exc.protected_objects, status=409)
        messages.success(request, f"{capfirst(self.resource.verbose_name)} “{name}” deleted.")
        return HttpResponseRedirect(self.resource.list_url())

    def render(self, obj, protected=None, status=200):
        collector, consequences = archive.consequences(obj)
        protected = collector.protected if protected is None else protected
        if self.resource.archivable:
            # Nothing goes with a record people archive: whatever hangs off it stops its deletion for good.
            blockers, consequences = archive.blocker_lines(protected, consequences), {}
        else:
            blockers = archive.blocker_lines(protected)
        return render(
            self.request,
            "generic/delete.jinja",
            {
                "resource": self.resource,
                "object": obj,
                "page_title": f"Delete {self.resource.verbose_name}: {obj}",
                "breadcrumbs": self.resource.breadcrumbs(obj),
                "consequences": consequences,
                "blockers": blockers[:20],
            },
            status=status,
        )


class HistoryPage(ResourceView):
    """Who changed what, when, from what to what, in words (nhs_joint.history)."""

    http_method_names = ["get", "head"]
    per_page = 25

    def get(self, request, key):
        obj = self.resource.get_object(key)
        paginator = Paginator(history.history_queryset(obj), self.per_page)
        page = paginator.get_page(request.GET.get("page"))
        entries = history.history_entries(obj, page.object_list)
        return render(
            request,
            "generic/history.jinja",
            {
                "resource": self.resource,
                "object": obj,
                "page_title": f"History of {obj}",
                "breadcrumbs": self.resource.breadcrumbs(obj),
                "entries": entries,
                "page": page,
                "page_links": _page_links(page, request.GET.copy()),
            },
        )


def forbidden(request, exception=None):
    """The 403 page: says why the action was refused."""
    reason = str(exception) if exception and str(exception) else "You do not have permission to do this."
    if _is_api(request):
        return JsonResponse({"detail": reason}, status=403)
    return render(request, "errors/403.jinja", {"page_title": "You cannot do this", "reason": reason}, status=403)


def _is_api(request):
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "errors/404.jinja", {"page_title": "Page not found"}, status=404)


def server_error(request):
    """The 500 page (a 503 when the database or Redis is unreachable): drawn without the database."""
    return failures.server_error(request)


def bad_request(request, exception=None):
    """A request Django refuses before any view: a body too large is a 413, anything else a 400."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return failures.error_page(
            request,
            "errors/400.jinja",
            413,
            {
                "page_title": "What you sent is too large",
                "reason": f"What you sent is too large: send at most {limit:,} bytes of form data.",
            },
        )
    return failures.error_page(
        request,
        "errors/400.jinja",
        400,
        {
            "page_title": "Sorry, the portal could not read what you sent",
            "reason": "The request could not be read. Go back and try again.",
        },
    )


__all__ = [
    "Resource",
    "ListConfig",
    "DetailConfig",
    "FormConfig",
    "PermissionConfig",
    "model_form",
    "register",
    "ListPage",
    "DetailPage",
    "EditPage",
    "DeletePage",
    "HistoryPage",
    "PermissionDenied",
]
