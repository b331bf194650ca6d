"""The base of every filterset: the same filters serve list pages, the API and CSV exports."""

import re

import django_filters
from django import forms
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import BooleanField, Expression, F, FloatField, Func, Q, Subquery, Value

CONFIG = "english"
MAX_SEARCH_WORDS = 12
MAX_WORD_LENGTH = 60
WORD = re.compile(r"\w+")


def prefix_query(text):
    """``text`` as a PostgreSQL tsquery: every word required, the last one also as the start of a word.

    Built from the words alone (letters, digits), each quoted, so that nothing a person types can
    be read as tsquery syntax; at most 12 words of up to 60 characters are kept. None when the
    text has no word at all.
    """
    words = [w[:MAX_WORD_LENGTH] for w in WORD.findall(text)][:MAX_SEARCH_WORDS]
    words = [w.replace("_", " ").strip() for w in words]
    words = [w for w in words if w]
    if not words:
        return None
    terms = [f"'{w}'" for w in words[:-1]] + [f"'{words[-1]}':*"]
    return " & ".join(terms)


class TsQuery(Func):
    """``to_tsquery('english', text)``: the words are stemmed as the stored vectors are."""

    function = "to_tsquery"
    output_field = SearchVectorField()  # only ever compared with @@ or ranked

    def __init__(self, text):
        super().__init__(Value(CONFIG), Value(text))

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, **extra)
        return sql.replace("to_tsquery(%s,", "to_tsquery(%s::regconfig,", 1), params


class StoredVector(Expression):
    """A table's stored search vector column (a generated column the ORM does not manage), by name."""

    output_field = SearchVectorField()

    def __init__(self, column):
        super().__init__()
        self.column = column

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name(self.column)}", []

    def get_group_by_cols(self):
        return [self]


class Matches(Func):
    """``vector @@ query``, as a condition."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()
    conditional = True


class Rank(Func):
    function = "ts_rank"
    output_field = FloatField()


class RelatedChoiceFilter(django_filters.ModelChoiceFilter):
    """A record chosen by its key; through a many-to-many, each matching record once.

    Filtered as a semi-join (``pk IN (SELECT …)``) rather than with DISTINCT: DISTINCT
    makes PostgreSQL sort every matching row before a page can be cut from them,
    where a semi-join lets it read the rows in the page's order from an index and
    stop at the page.
    """

    def __init__(self, *args, **kwargs):
        kwargs.pop("distinct", None)
        super().__init__(*args, distinct=False, **kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        field = qs.model._meta.get_field(self.field_name.split("__")[0])
        if not field.many_to_many:
            return qs.filter(**{self.field_name: value})
        matching = qs.model._base_manager.filter(**{self.field_name: value}).values("pk")
        return qs.filter(pk__in=matching)


class PortalFilterSet(django_filters.FilterSet):
    """Adds ``q``: PostgreSQL full-text search over ``search_fields``, and exact codes.

    ``search_fields`` are searched as English text (stemmed: "commission" finds
    "commissioning"), and the last word as the start of a word, so a list narrows
    as people type; matches come best first unless another order is chosen.
    ``code_fields`` are matched as the start of a code, so an ODS code, slug or
    email finds its record.

    ``search_vector`` names a stored, indexed column holding the vector of the
    ``search_fields`` (a generated column of the model's table, made in a migration):
    the big tables search that; the others compute the vector per row.
    """

    search_fields: tuple = ()
    code_fields: tuple = ()
    search_vector: str = ""

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

    def search_vector_expression(self):
        if self.search_vector:
            return StoredVector(self.search_vector)
        return SearchVector(*self.search_fields, config=CONFIG)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        text = prefix_query(value)
        match = Q()
        if text is not None:
            vector, query = self.search_vector_expression(), TsQuery(text)
            match = Q(Matches(vector, query))
            # Best matches first; an ordering chosen on the page (applied after) replaces this.
            queryset = queryset.order_by(Rank(vector, query).desc(), F("pk").asc())
        for field in self.code_fields:
            match |= Q(**{f"{field}__istartswith": value})
        if not match:
            return queryset.none()
        return queryset.filter(match)

    def filter_region_or_england(self, queryset, name, value):
        """A region's ODS code, or ``ENG`` for the records that apply to all England."""
        value = value.strip().upper()
        if not value:
            return queryset
        if value == "ENG":
            return queryset.filter(**{f"{name}__isnull": True})
        if "__" in name:
            return queryset.filter(**{f"{name}__ods_code": value})
        # The region's id from a subquery PostgreSQL runs first: the rows are then found by an index on the
        # region's id (with the rest of the key), where a join to the regions would filter them one by one.
        regions = queryset.model._meta.get_field(name).related_model._base_manager
        return queryset.filter(**{name: Subquery(regions.filter(ods_code=value).values("pk")[:1])})
