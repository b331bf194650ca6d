"""The Jinja2 environment of the portal's pages, with the NHS.UK frontend macros on its path."""

from pathlib import Path

import nhsuk_frontend_jinja
from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader

from .forms import error_list, field_kind

NHSUK_TEMPLATES = Path(nhsuk_frontend_jinja.__file__).parent / "templates"


def url(name, *args, **kwargs):
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, fmt="j F Y"):
    """A date as NHS pages write it: 1 April 2018."""
    if value is None or value == "":
        return ""
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return formats.date_format(value, fmt)


def datetime(value):
    return date(value, "j F Y \\a\\t H:i")


def environment(**options):
    loader = options.pop("loader", None)
    loaders = [loader] if loader else []
    # The package's page template extends "template.jinja", so both its folders are searched.
    loaders.append(FileSystemLoader([str(NHSUK_TEMPLATES), str(NHSUK_TEMPLATES / "nhsuk")]))
    # The NHS.UK macros read nested optional parameters (params.search.input.placeholder)
    # as Nunjucks does: a missing parent is undefined, not an error.
    options["undefined"] = ChainableUndefined
    options.setdefault("extensions", []).append("jinja2.ext.do")
    env = Environment(loader=ChoiceLoader(loaders), **options)
    env.globals.update(
        static=static,
        url=url,
        get_messages=get_messages,
        service_name=settings.SERVICE_NAME,
        nav_items=nav_items,
        field_kind=field_kind,
        error_list=error_list,
        account_items=account_items,
    )
    env.filters.update(date=date, datetime=datetime)
    return env


NAVIGATION = [
    # (text, URL prefix, who sees it: None for everyone signed in)
    ("Programmes", "/programmes/", None),
    ("Workstreams", "/workstreams/", None),
    ("Expectations", "/expectations/", None),
    ("Measures", "/measures/", None),
    ("Appointments", "/appointments/", None),
    ("Organisations", "/organisations/", None),
    ("Regions", "/regions/", None),
    ("Users", "/users/", "Administrator"),
]


def nav_items(request):
    """The header's navigation for the signed-in user, marking the section being shown."""
    user = getattr(request, "user", None)  # absent when a page is drawn outside the middleware
    if user is None or not user.is_authenticated:
        return []
    path = request.path
    items = []
    for text, prefix, role in NAVIGATION:
        if role and not user.has_role(role):
            continue
        items.append({"text": text, "href": prefix, "current": path == prefix, "active": path.startswith(prefix)})
    return items


def account_items(request):
    user = request.user
    return [
        {"text": user.get_full_name() or user.username, "icon": True},
        {"text": "Change password", "href": reverse("password_change")},
        {"text": "Sign out", "href": reverse("logout")},
    ]
