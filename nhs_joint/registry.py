"""What the apps tell the core about themselves, so that the core imports no app.

Each app fills the registry in its ``AppConfig.ready()``: the entries of the
header's navigation, the functions its templates need, the API resources it
serves and the reference data it loads. The core reads the registry when it
builds the navigation, the template environment, the API's routes and the
reference data, always after every app is ready.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str
    order: int
    role: str | tuple[str, ...] | None = None  # a role (or one of the roles) that must be held to see it; None for all


@dataclass(frozen=True)
class ApiRoute:
    prefix: str
    viewset: type
    basename: str


@dataclass(frozen=True)
class DetailPanel:
    """A part of every record's page that another app draws (comments, files, watching).

    ``render(request, record, resource)`` returns HTML (a ``Markup``) or "" when it has nothing to show
    for that record; ``models`` are what it reads, so the page's ETag changes when they change.

    ``reads(request, record)``, when given, names the querysets the panel reads (a list, empty when it shows
    nothing): the record's page reads them in the same query as the record's sections (nhs_joint/prefetch.py)
    and calls ``render(request, record, resource, rows=[their records, in that order])``. Without ``rows``
    (another page drawing the panel) ``render`` reads them itself.
    """

    name: str
    render: Callable
    order: int
    models: tuple = ()
    reads: Callable | None = None


@dataclass(frozen=True)
class MyWorkSection:
    """A section of the My work page that another app draws (saved views).

    ``render(request)`` returns HTML (a ``Markup``) or "" when it has nothing to show that person. It is
    called once per page, so it must read what it shows in a fixed number of queries.
    """

    name: str
    render: Callable
    order: int


@dataclass(frozen=True)
class GlossaryEntry:
    """A term the portal uses and what it means, in plain words; ``anchor`` is its id on /glossary/."""

    term: str
    meaning: str
    anchor: str
    items: tuple = ()  # (name, meaning) pairs: the values a term can take (the stages, the SPC icons)


@dataclass(frozen=True)
class GlossarySection:
    title: str
    order: int
    entries: Callable  # () -> list of GlossaryEntry, asked each time the glossary is drawn


@dataclass
class Registry:
    navigation: list[NavItem] = field(default_factory=list)
    template_globals: dict[str, Callable] = field(default_factory=dict)
    api_routes: list[ApiRoute] = field(default_factory=list)
    api_paths: list = field(default_factory=list)  # django.urls.path() entries under /api/v1/ that are not resources
    reference_loaders: list[Callable] = field(default_factory=list)  # (data folder, tally) -> None, in load order
    detail_panels: list[DetailPanel] = field(default_factory=list)  # drawn under every record's details
    my_work_sections: list[MyWorkSection] = field(default_factory=list)  # drawn at the end of My work
    account_items: list[Callable] = field(default_factory=list)  # (request) -> header account item or None
    # (person) -> sql: one value, part of every page's version (nhs_joint/conditional.py), for what a page shows
    # of the person asking that is not a record with a history (their unread notifications); ``person`` is the
    # SQL that names the person's id (the query reads it with who is asking: a parameter, or a column).
    page_versions: list[Callable] = field(default_factory=list)
    resources: list = field(default_factory=list)  # every nhs_joint.generic.Resource, as it is registered
    # Partners (people of providers, CCGs and local systems) reach only the URL names listed here: every
    # other page and API route is closed to them, so a page added later stays closed unless opened here.
    # Each view opened to them still checks that the record is their own.
    partner_url_names: set = field(default_factory=set)
    partner_home: str = ""  # the URL name a partner is sent to from the home page
    # (type name, ids) -> {id: [{"text", "href"}]}: warnings another app (the reports) has about records,
    # drawn beside them (open consistency findings beside the expectations they name).
    record_flags: list[Callable] = field(default_factory=list)
    # Models ("app.model") chosen in forms from a list that narrows as people type (static/portal/autocomplete.js).
    autocomplete_models: set = field(default_factory=set)
    glossary: list[GlossarySection] = field(default_factory=list)  # the sections of /glossary/
    # (queryset, text, vector) -> (Q, ranking) or None: how a list's ``q`` matches (search.query.matching_records,
    # the search box's own reading of what was typed); unset, nhs_joint.filters matches the words alone.
    text_search: Callable | None = None
    text_search_models: list = field(default_factory=list)  # what it reads: every list's version covers them
    _urls_loaded: bool = False
    _by_type: dict = field(default_factory=dict)

    def add_navigation(self, text, href, order, role=None):
        self.navigation.append(NavItem(text, href, order, role))

    def add_detail_panel(self, name, render, order, models=(), reads=None):
        if any(panel.name == name for panel in self.detail_panels):
            raise ValueError(f"The detail panel {name!r} is registered twice.")
        self.detail_panels.append(DetailPanel(name, render, order, tuple(models), reads))
        self.detail_panels.sort(key=lambda panel: panel.order)

    def add_my_work_section(self, name, render, order):
        if any(section.name == name for section in self.my_work_sections):
            raise ValueError(f"The My work section {name!r} is registered twice.")
        self.my_work_sections.append(MyWorkSection(name, render, order))
        self.my_work_sections.sort(key=lambda section: section.order)

    def add_account_item(self, item):
        """``item(request)`` gives an entry of the header's account menu ({"text", "href"}) or None."""
        self.account_items.append(item)

    def add_glossary(self, title, entries, order):
        """A section of the glossary: ``entries()`` returns its GlossaryEntry list (so a new report rule, say,
        appears there without anyone editing the glossary)."""
        if any(section.title == title for section in self.glossary):
            raise ValueError(f"The glossary section {title!r} is registered twice.")
        self.glossary.append(GlossarySection(title, order, entries))

    def glossary_sections(self):
        """Each section's title and entries, in order."""
        return [
            {"title": section.title, "entries": list(section.entries())}
            for section in sorted(self.glossary, key=lambda section: section.order)
        ]

    def add_resource(self, resource):
        """A kind of record with pages (``nhs_joint.generic.register`` adds it, with its URLs and API route)."""
        if any(known.name == resource.name for known in self.resources):
            raise ValueError(f"The resource {resource.name!r} is registered twice.")
        self.resources.append(resource)

    def add_api(self, prefix, viewset, basename):
        if any(route.prefix == prefix for route in self.api_routes):
            raise ValueError(f"The API resource {prefix!r} is registered twice.")
        self.api_routes.append(ApiRoute(prefix, viewset, basename))

    def open_to_partners(self, *url_names):
        self.partner_url_names.update(url_names)

    def flags_for(self, type_name, ids):
        """{id: [flag, …]} from every app that flags records."""
        flags = {}
        for source in self.record_flags:
            for key, found in source(type_name, list(ids)).items():
                flags.setdefault(key, []).extend(found)
        return flags

    def nav_items(self):
        return sorted(self.navigation, key=lambda item: item.order)

    def declared_resources(self):
        """Every page resource; the apps' URLs register them, so they are loaded first where nothing has yet
        (a Celery worker, a management command)."""
        if not self._urls_loaded:
            from django.urls import get_resolver

            get_resolver().url_patterns  # noqa: B018 (importing the URLs registers every resource)
            self._urls_loaded = True
        return self.resources

    def resource_for(self, type_name):
        """The page resource of a kind of record, by its model's name ("programme"), or None.

        Asked for every row of a list (each row's address), so it is a dictionary look-up.
        """
        resources = self.declared_resources()
        if len(self._by_type) != len(resources):
            self._by_type = {}
            for resource in resources:
                self._by_type.setdefault(resource.model._meta.model_name, resource)
        return self._by_type.get(type_name)

    def resource_named(self, name):
        """A declared page resource by its own name ("programme", "local-system")."""
        for resource in self.declared_resources():
            if resource.name == name:
                return resource
        raise KeyError(name)


registry = Registry()
