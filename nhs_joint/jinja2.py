"""The Jinja2 environment of the portal's pages, with the NHS.UK frontend macros on its path."""

import json
from collections import ChainMap
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nhsuk_frontend_jinja
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import EmptyResultSet
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader
from markupsafe import Markup

from .dates import format_date, format_datetime
from .forms import error_list, field_kind, hint_html
from .registry import registry
from .suggest import chosen_choices, records_of, remote_source
from .words import (
    article,
    comparison,
    count,
    download_as_csv,
    figure,
    measure_figure,
    measure_target,
    none_found,
    plural,
    shorten,
    showing,
    with_article,
)

NHSUK_TEMPLATES = Path(nhsuk_frontend_jinja.__file__).parent / "templates"


def url(name, *args, **kwargs):
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, fmt="j F Y"):
    """A date as NHS pages write it: 1 April 2018."""
    return format_date(value, fmt)


def datetime(value):
    """A date and time as NHS pages write them: 29 November 2026 at 2:48pm."""
    return format_datetime(value)


def number(value):
    """A decimal without trailing zeros: 95.00 as 95, 87.50 as 87.5."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


RAG_TAGS = {"red": "nhsuk-tag--red", "amber": "nhsuk-tag--orange", "green": "nhsuk-tag--green"}


def rag_class(value):
    """The tag colour of a RAG status; the status is always written out too, colour is never the only cue."""
    return RAG_TAGS.get(value, "nhsuk-tag--grey")


class MacroCache:
    """Renders NHS.UK component macros once per distinct input.

    The components are pure functions of their parameters, and a page calls
    them with the same parameters again and again (the header, the footer, a
    filter's checkboxes). Rendering a component costs far more than looking up
    its HTML, so the HTML is kept, keyed by the parameters, in a bounded map
    per process. Only what the parameters hold reaches the key, so no user's
    data can appear on another's page unless it was in their own parameters.
    """

    def __init__(self, env, size=4096):
        self.env = env
        self.size = size
        self.html = {}

    def _store(self, key, render):
        html = self.html.get(key)
        if html is None:
            html = Markup(render())
            if len(self.html) >= self.size:
                self.html.clear()
            self.html[key] = html
        return html

    def component(self, template, macro, params):
        """``{{ component("nhsuk/components/header/macro.jinja", "header", {...}) }}``."""
        key = ("component", template, macro, json.dumps(params, sort_keys=True, default=str))
        return self._store(key, lambda: getattr(self.env.get_template(template).module, macro)(params))

    def field(self, form, name):
        """A form field drawn by macros/forms.jinja's ``field``, keyed by everything the macro reads."""
        bound = form[name]
        field = bound.field
        value = bound.value()
        if isinstance(value, (list, tuple)):
            value = tuple(str(v) for v in value)
        else:
            value = None if value is None else str(value)
        version = self._version(field)
        source = remote_source(field, version)
        # A long list drawn remotely holds only the chosen record (nhs_joint/suggest.py): named by its source.
        if source:
            chosen = version if version is not None else tuple(chosen_choices(bound))
            choices = ("remote", source, chosen, str(field.empty_label))
        else:
            choices = self._choices_key(field, version)
        key = (
            "field",
            type(field).__name__,
            type(field.widget).__name__,
            bound.html_name,
            str(bound.label),
            str(bound.help_text),
            tuple(str(item) for item in getattr(field, "help_items", None) or ()),
            tuple(str(e) for e in bound.errors),
            value,
            choices,
            json.dumps(field.widget.attrs, sort_keys=True, default=str),
            getattr(field.widget, "allow_multiple_selected", False),
        )
        return self._store(key, lambda: self.env.get_template("macros/forms.jinja").module.field(form, name))

    @staticmethod
    def _version(field):
        """The version of the data a field's records to choose from are drawn from (one query, as pages'
        versions are: nhs_joint/conditional.py), or None for other choices and records without a history."""
        queryset = records_of(field)
        if queryset is not None:
            from .conditional import data_version, related_models, rendering

            models = related_models(queryset.model)
            # The page's own version, read before it was drawn, where it covers the records' tables: no query.
            current = rendering()
            version = current.version_of(models) if current is not None else None
            return version if version is not None else data_version(models)
        return None

    @staticmethod
    def _choices_key(field, version):
        """What a field's choices are, for the key. Records to choose from (2,000 programmes at England scale)
        are named by their query and the version of the data they are drawn from, rather than read and named
        one by one on every page; other choices, and records of a kind without a history, by the choices
        themselves."""
        if version is not None:
            try:
                sql, params = field.queryset.query.sql_with_params()
            except EmptyResultSet:
                sql, params = "", ()
            labels = (str(field.empty_label), str(getattr(field, "null_label", None)), type(field).__name__)
            return ("records", sql, repr(params), version, labels)
        # Model choices cost a query here; a miss costs one more when the macro draws them.
        return tuple((str(v), str(t)) for v, t in field.choices) if hasattr(field, "choices") else None


class KeptLayout:
    """The header and footer of a person's pages, drawn once per person, the data's version of what they show and
    the page's place in the navigation, then reused across their pages.

    They show the person's name, roles and bodies (the navigation, the account menu), their unread notifications
    and which section the page is in: the key holds each of those as read for this request (the person and their
    roles are read on every request, with the data's versions), the versions of the person's own tables and what the
    apps add to every page's version for them (``registry.page_versions``: the unread count). So a new role, a new
    name or a new notification shows on the next page, and no person's header is another's. Neither holds a form
    token or a message. Drawn each time where the page has no version read with who is asking (outside
    ``conditional.respond``, an API token, a version that cannot be read)."""

    def __init__(self, cache, size=512):
        self.cache = cache
        self.size = size
        self.html = {}

    def header(self, request, container=""):
        """``{{ layout_header(request, containerClasses) }}``: the NHS.UK header, as layout.jinja drew it."""
        return self._kept("header", request, container, self._header)

    def footer(self, request, container=""):
        """``{{ layout_footer(request, containerClasses) }}``: the NHS.UK footer, as layout.jinja drew it."""
        return self._kept("footer", request, container, self._footer)

    def _kept(self, part, request, container, draw):
        key = self._key(part, request, container)
        if key is None:
            return draw(request, container)
        html = self.html.get(key)
        if html is None:
            html = draw(request, container)
            if len(self.html) >= self.size:
                self.html.clear()
            self.html[key] = html
        return html

    @staticmethod
    def _key(part, request, container):
        from .conditional import person_tables, rendering

        current = rendering()
        if current is None or current.known is None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or current.user_id != user.pk:
            return None
        path = request.path
        return (
            part,
            container,
            user.pk,
            str(user),
            tuple(sorted(getattr(user, "roles", ()))),
            tuple(sorted(getattr(user, "body_ids", ()) or ())),
            getattr(user, "region_id", None),
            current.known.version_of_tables(person_tables()),
            tuple(current.parts.values()),
            tuple((path == item.href, path.startswith(item.href)) for item in registry.navigation),
        )

    def _header(self, request, container):
        navigation_items = nav_items(request)
        return self.cache.component(
            "nhsuk/components/header/macro.jinja",
            "header",
            {
                "containerClasses": container,
                "service": {"text": settings.SERVICE_NAME, "href": "/"},
                "navigation": {"items": navigation_items, "ariaLabel": "Portal"} if navigation_items else None,
                "account": {"items": account_items(request)} if navigation_items else None,
                "search": {
                    "action": reverse("search"),
                    "name": "q",
                    "placeholder": "Search the portal",
                    "visuallyHiddenLabel": "Search the portal",
                    "visuallyHiddenButton": "Search",
                }
                if navigation_items
                else None,
            },
        )

    def _footer(self, request, container):
        return self.cache.component(
            "nhsuk/components/footer/macro.jinja",
            "footer",
            {
                "containerClasses": container,
                "meta": {"items": footer_items(request), "text": FOOTER_TEXT},
            },
        )


FOOTER_TEXT = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (source: NHS Digital ODS / "
    "ONS). Monthly measurements in the demonstration data are generated."
)


class TemplateGlobals(ChainMap):
    """A template's globals (the environment's, with the template's own over them), whose ``keys()`` is a set:
    Jinja2 takes the keys of an imported template's globals from the importing page's on every ``{% from … import
    … %}`` (``ctx.globals_keys - template.globals.keys()``), which against a set is one C-level difference rather than
    a look-up through each map for each of some eighty names, on every page, for each import."""

    def keys(self):
        return set().union(*self.maps)


class PortalEnvironment(Environment):
    def make_globals(self, d):
        return TemplateGlobals({} if d is None else d, self.globals)


def environment(**options):
    loader = options.pop("loader", None)
    loaders = [loader] if loader else []
    # The package's page template extends "template.jinja", so both its folders are searched.
    loaders.append(FileSystemLoader([str(NHSUK_TEMPLATES), str(NHSUK_TEMPLATES / "nhsuk")]))
    # The NHS.UK macros read nested optional parameters (params.search.input.placeholder)
    # as Nunjucks does: a missing parent is undefined, not an error.
    options["undefined"] = ChainableUndefined
    options.setdefault("extensions", []).append("jinja2.ext.do")
    env = PortalEnvironment(loader=ChoiceLoader(loaders), **options)
    cache = MacroCache(env)
    layout = KeptLayout(cache)
    env.globals.update(
        component=cache.component,
        layout_header=layout.header,
        layout_footer=layout.footer,
        cached_field=cache.field,
        static=static,
        url=url,
        get_messages=get_messages,
        service_name=settings.SERVICE_NAME,
        nav_items=nav_items,
        field_kind=field_kind,
        error_list=error_list,
        hint_html=hint_html,
        account_items=account_items,
        footer_items=footer_items,
        rag_class=rag_class,
        remote_source=remote_source,
        chosen_choices=chosen_choices,
        # The words module's list wording (nhs_joint/words.py): counts, downloads and empty states.
        showing=showing,
        download_as_csv=download_as_csv,
        none_found=none_found,
        # Figures with their units, and targets in words ("at least 95%"): never ">=" nor a stored decimal.
        figure=figure,
        comparison=comparison,
        measure_figure=measure_figure,
        measure_target=measure_target,
    )
    env.globals.update(registry.template_globals)  # what the apps' templates need (charts, …)
    env.filters.update(
        date=date,
        datetime=datetime,
        number=number,
        counted=count,  # {{ n | counted("finding") }}: "1 finding", "2 findings" (Jinja's own count is length)
        plural=plural,
        article=article,
        with_article=with_article,
        shorten=shorten,
    )
    return env


def nav_items(request):
    """The header's navigation for the signed-in user, marking the section being shown."""
    user = getattr(request, "user", None)  # absent when a page is drawn outside the middleware
    if user is None or not user.is_authenticated:
        return []
    path = request.path
    items = []
    partner = getattr(user, "is_partner", False)
    for item in registry.nav_items():
        roles = (item.role,) if isinstance(item.role, str) else item.role or ()
        if roles and not any(user.has_role(role) for role in roles):
            continue
        if partner and item.role is None and not _open_to_partners(item.href):
            continue  # a partner is shown only the pages open to them
        items.append(
            {"text": item.text, "href": item.href, "current": path == item.href, "active": path.startswith(item.href)}
        )
    return items


FOOTER_LINKS = (("service-status", "Service status"), ("glossary", "Glossary"), ("api-docs", "API documentation"))


def footer_items(request):
    """The footer's links: to a partner, only those open to them (every link shown answers 200)."""
    user = getattr(request, "user", None)
    partner = getattr(user, "is_partner", False) and user.is_authenticated
    return [
        {"href": reverse(name), "text": text}
        for name, text in FOOTER_LINKS
        if not partner or name in registry.partner_url_names
    ]


def _open_to_partners(href):
    try:
        return resolve(href).view_name in registry.partner_url_names
    except Resolver404:
        return False


def account_items(request):
    user = request.user
    return [
        {"text": str(user), "icon": True},
        *(entry for item in registry.account_items if (entry := item(request))),
        {"text": "Change password", "href": reverse("password_change")},
        {"text": "Your API tokens", "href": reverse("your-tokens")},
        {"text": "Sign out", "href": reverse("logout")},
    ]
