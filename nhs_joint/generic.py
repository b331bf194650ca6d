"""Generic pages shared by every kind of record: list, detail, create, edit, delete and history.

An app describes a kind of record once, as a ``Resource`` (its queryset, filterset,
columns, form and detail sections); the views here do the rest the same way for
every app, so that the rules of the pages (permissions, error summaries,
concurrent edits, exports, query counts) live in one place.
"""

from dataclasses import dataclass, field
from typing import Callable

from django.contrib import messages
from django.contrib.admin.utils import NestedObjects
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.text import capfirst
from django.views import View

from . import history, permissions
from .concurrency import changes_since, version_of
from .exports import export_table
from .tables import Table

PAGE_SIZE = 50
VERSION_FIELD = "_version"


@dataclass
class Resource:
    """One kind of record as the portal's pages show it."""

    model: type
    name: str  # URL name prefix, e.g. "programme" gives programme-list, programme-detail ...
    prefix: str  # URL path prefix, e.g. "programmes"
    queryset: Callable  # () -> the queryset of the list (select_related/prefetch_related set)
    filterset: type
    columns: list
    lookup: str = "pk"  # the field in the record's address
    lookup_converter: str = "int"
    form: type | None = None  # None: read-only in the portal
    detail_queryset: Callable | None = None
    detail_template: str = "generic/detail.jinja"
    detail_context: Callable | None = None  # (obj, request) -> dict
    summary: Callable | None = None  # (obj) -> list of (label, value) rows of the detail page
    deletable: bool = True
    creatable: bool = True
    create_label: str | None = None
    intro: str = ""
    extra_urls: list = field(default_factory=list)
    has_history: bool = True  # False for records without a history (report runs, findings)
    list_forms: Callable | None = None  # (user) -> [{"action", "text", "fields": {...}}]: POST buttons on the list
    list_prefix: str | None = None  # where the list is, when not at the prefix (e.g. "regions/codes")
    list_actions: Callable | None = None  # (user) -> [{"text", "href"}]: more buttons on the list page
    # Who may see and change these records; the defaults are the portal's rules for programme records.
    view_permission: Callable | None = None  # (user) -> Decision
    change_permission: Callable = permissions.can_edit  # (user, obj) -> Decision
    create_permission: Callable = permissions.can_edit_records  # (user) -> Decision

    def check_view(self, user):
        if self.view_permission:
            self.view_permission(user).enforce()

    @property
    def verbose_name(self):
        return str(self.model._meta.verbose_name)

    @property
    def verbose_name_plural(self):
        return str(self.model._meta.verbose_name_plural)

    def get_object(self, value):
        queryset = (self.detail_queryset or self.queryset)()
        try:
            return queryset.get(**{self.lookup: value})
        except (self.model.DoesNotExist, ValueError):
            raise Http404(f"No {self.verbose_name} found.") from None

    def list_url(self):
        return reverse(f"{self.name}-list")

    def urls(self):
        key = f"<{self.lookup_converter}:key>"
        patterns = [
            path(f"{self.list_prefix or self.prefix}/", ListPage.as_view(resource=self), name=f"{self.name}-list"),
        ]
        if self.form and self.creatable:
            patterns.append(path(f"{self.prefix}/new/", EditPage.as_view(resource=self), name=f"{self.name}-create"))
        patterns += [
            path(f"{self.prefix}/{key}/", DetailPage.as_view(resource=self), name=f"{self.name}-detail"),
        ]
        if self.has_history:
            patterns.append(
                path(f"{self.prefix}/{key}/history/", HistoryPage.as_view(resource=self), name=f"{self.name}-history")
            )
        if self.form:
            patterns.append(
                path(f"{self.prefix}/{key}/edit/", EditPage.as_view(resource=self), name=f"{self.name}-edit")
            )
            if self.deletable:
                patterns.append(
                    path(f"{self.prefix}/{key}/delete/", DeletePage.as_view(resource=self), name=f"{self.name}-delete")
                )
        return self.extra_urls + patterns

    def breadcrumbs(self, obj=None, *more):
        crumbs = [{"text": "Home", "href": "/"}, {"text": capfirst(self.verbose_name_plural), "href": self.list_url()}]
        if obj is not None:
            crumbs.append({"text": str(obj), "href": obj.get_absolute_url()})
        crumbs.extend(more)
        return crumbs


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
        resource = self.resource
        filterset = resource.filterset(request.GET, queryset=resource.queryset(), request=request)
        if not filterset.is_valid():
            queryset = resource.queryset().none()
        else:
            queryset = filterset.qs
        if not queryset.ordered:
            queryset = queryset.order_by("pk")
        if request.GET.get("export") == "csv" and not filterset.errors:
            return export_table(f"{resource.prefix}.csv", resource.columns, queryset)

        paginator = Paginator(queryset, PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        table = Table(resource.columns, page.object_list, ordering=request.GET.get("ordering"), query=query)
        export_query = query.copy()
        export_query["export"] = "csv"
        return render(
            request,
            "generic/list.jinja",
            {
                "resource": resource,
                "page_title": capfirst(resource.verbose_name_plural),
                "breadcrumbs": [{"text": "Home", "href": "/"}],
                "filterset": filterset,
                "table": table,
                "page": page,
                "page_links": _page_links(page, query),
                "query": query.urlencode(),
                "export_url": "?" + export_query.urlencode(),
                "can_create": resource.form is not None and resource.creatable and resource.create_permission(request.user).allowed,
                "list_actions": resource.list_actions(request.user) if resource.list_actions else [],
                "list_forms": resource.list_forms(request.user) if resource.list_forms else [],
            },
            status=400 if filterset.errors else 200,
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
        resource = self.resource
        obj = resource.get_object(key)
        context = {
            "resource": resource,
            "object": obj,
            "page_title": str(obj),
            "breadcrumbs": resource.breadcrumbs(),
            "summary": resource.summary(obj) if resource.summary else [],
            "can_edit": resource.form is not None and resource.change_permission(request.user, obj).allowed,
        }
        if resource.detail_context:
            context.update(resource.detail_context(obj, request))
        return render(request, resource.detail_template, context)


class EditPage(ResourceView):
    """Create or edit a record. An edit saves only if nobody changed the record since the form was opened."""

    def get_object(self, key):
        if key is None:
            return None
        return self.resource.get_object(key)

    def check_permission(self, obj):
        user = self.request.user
        resource = self.resource
        decision = resource.change_permission(user, obj) if obj is not None else resource.create_permission(user)
        decision.enforce()

    def make_form(self, obj, data=None):
        return self.resource.form(data=data, instance=obj, user=self.request.user)

    def get(self, request, key=None):
        obj = self.get_object(key)
        self.check_permission(obj)
        form = self.make_form(obj)
        return self.render(form, obj, version=version_of(obj) if obj else "")

    def post(self, request, key=None):
        obj = self.get_object(key)
        self.check_permission(obj)
        form = self.make_form(obj, data=request.POST)
        submitted_version = request.POST.get(VERSION_FIELD, "")
        if not form.is_valid():
            return self.render(form, obj, version=submitted_version, status=400)
        if obj is None:
            with transaction.atomic():
                saved = form.save()
            messages.success(request, f"{capfirst(self.resource.verbose_name)} “{saved}” created.")
            return HttpResponseRedirect(saved.get_absolute_url())
        with transaction.atomic():
            # Lock the row, then compare versions: two saves cannot both pass the check.
            list(self.resource.model.objects.select_for_update().filter(pk=obj.pk).order_by().values_list("pk"))
            current = version_of(obj)
            if submitted_version != current:
                conflict = changes_since(obj, submitted_version) or [{"field": "This record", "who": "Someone"}]
                return self.render(form, obj, version=current, conflict=conflict, status=409)
            saved = form.save()
        messages.success(request, f"Your changes to “{saved}” have been saved.")
        return HttpResponseRedirect(saved.get_absolute_url())

    def render(self, form, obj, version, conflict=None, status=200):
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
                "conflict": conflict,
                "form_has_errors": bool(form.errors),
                "cancel_url": obj.get_absolute_url() if obj else resource.list_url(),
            },
            status=status,
        )


class DeletePage(ResourceView):
    """Confirm, then delete; the page lists what goes with the record, or what stops it."""

    def get(self, request, key):
        obj = self.resource.get_object(key)
        self.resource.change_permission(request.user, obj).enforce()
        return self.render(obj)

    def post(self, request, key):
        obj = self.resource.get_object(key)
        self.resource.change_permission(request.user, obj).enforce()
        name = str(obj)
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError as exc:
            return self.render(obj, protected=exc.protected_objects, status=409)
        messages.success(request, f"{capfirst(self.resource.verbose_name)} “{name}” deleted.")
        return HttpResponseRedirect(self.resource.list_url())

    def render(self, obj, protected=None, status=200):
        collector = NestedObjects(using=router.db_for_write(obj.__class__))
        collector.collect([obj])
        consequences = {}
        for model, instances in collector.model_objs.items():
            if model is obj.__class__ or model._meta.auto_created or model.__name__.startswith("Historical"):
                continue
            consequences[capfirst(model._meta.verbose_name_plural)] = len(instances)
        blockers = protected if protected is not None else collector.protected
        return render(
            self.request,
            "generic/delete.jinja",
            {
                "resource": self.resource,
                "object": obj,
                "page_title": f"Delete {self.resource.verbose_name}: {obj}",
                "breadcrumbs": self.resource.breadcrumbs(obj),
                "consequences": consequences,
                "blockers": sorted({f"{capfirst(b._meta.verbose_name)}: {b}" for b in blockers})[:20],
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
    return render(
        request, "errors/403.jinja", {"page_title": "You cannot do this", "reason": reason}, status=403
    )


def _is_api(request):
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "errors/404.jinja", {"page_title": "Page not found"}, status=404)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Sorry, there is a problem with the service."}, status=500)
    return render(request, "errors/500.jinja", {"page_title": "Sorry, there is a problem with the service"}, status=500)


__all__ = ["Resource", "ListPage", "DetailPage", "EditPage", "DeletePage", "HistoryPage", "PermissionDenied"]
