"""The base of every filterset: the same filters serve list pages, the API and CSV exports."""

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Q


class PortalFilterSet(django_filters.FilterSet):
    """Adds ``q``: PostgreSQL full-text search over ``search_fields``, and exact codes.

    ``search_fields`` are searched as English text (stemmed: "commission" finds
    "commissioning"); ``code_fields`` are matched as the start of a code, so an
    ODS code, slug or email finds its record.
    """

    search_fields: tuple = ()
    code_fields: tuple = ()

    q = django_filters.CharFilter(method="search", label="Search")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            # A short list of choices reads best as checkboxes (the NHS pattern), not a multiple select.
            # Assigned, not defaulted: other users of the filterset (the API schema) may have set one.
            if isinstance(filter_, django_filters.MultipleChoiceFilter):
                filter_.extra["widget"] = forms.CheckboxSelectMultiple
            if isinstance(filter_, (django_filters.ModelChoiceFilter, django_filters.ChoiceFilter)):
                filter_.extra.setdefault("empty_label", "Any")
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.extra["widget"] = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
            # A form field built earlier (and copied with the filter) would keep its old widget.
            filter_.__dict__.pop("_field", None)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(_search=SearchQuery(value, search_type="websearch", config="english"))
        for field in self.code_fields:
            match |= Q(**{f"{field}__istartswith": value})
        vector = SearchVector(*self.search_fields, config="english")
        return queryset.annotate(_search=vector).filter(match)

    def filter_region_or_england(self, queryset, name, value):
        """A region's ODS code, or ``ENG`` for the records that apply to all England."""
        value = value.strip().upper()
        if not value:
            return queryset
        if value == "ENG":
            return queryset.filter(**{f"{name}__isnull": True})
        return queryset.filter(**{f"{name}__ods_code": value})
