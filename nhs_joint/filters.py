"""The base of every filterset: the same filters serve list pages, the API and CSV exports."""

import re

import django_filters
from django import forms
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import BooleanField, Expression, F, FloatField, Func, Q, Value
from django.utils.choices import BaseChoiceIterator

from .registry import registry

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
    # What reads a page of the list from the records' search documents alone, where the list asks nothing of its
    # records but what those hold (search.query.DocumentsPage: nhs_joint.page_ids.ranked_page asks it); None when
    # the list's own tables must be read.
    documents = None


class OnceChoices(BaseChoiceIterator):
    """Choices read from the database once per form, when first drawn or checked (not when the form is made).

    A callable's choices are read again each time they are iterated, and a list page iterates them twice
    (nhs_joint.jinja2.MacroCache keys on them, then the macro draws them); the API reads them only to check.
    """

    def __init__(self, read):
        self.read = read
        self.cache = None

    def __iter__(self):
        if self.cache is None:
            self.cache = list(self.read())
        yield from self.cache

    def __call__(self):
        # Callable, so the API schema does not read them (they come from the database) and a form field
        # reads them through Django's callable-choices path, still once.
        return list(self)

    def __deepcopy__(self, memo):
        return OnceChoices(self.read)  # each form its own, read afresh


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


class KeyChoiceField(django_filters.fields.ModelChoiceField):
    """A record chosen by its key (a slug, an email, a code), in any case, archived or not.

    The choices offered are the queryset's; a key given in a link (a bookmark, the API) is looked up among all
    the records, so that a link to an archived programme's records still answers.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = self.to_field_name or "pk"
        value = str(value).strip()
        records = self.queryset.model._base_manager
        for lookup in (key, f"{key}__iexact"):
            try:
                return records.get(**{lookup: value})
            except (records.model.DoesNotExist, records.model.MultipleObjectsReturned, ValueError, TypeError):
                continue
        raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")

    def prepare_value(self, value):
        """A key as given in a link (``WINTER``) as the record's own, so that its choice shows as selected."""
        if not isinstance(value, str) or not value.strip():
            return super().prepare_value(value)
        cached = getattr(self, "_prepared", None)
        if cached is None or cached[0] != value:
            try:
                record = self.to_python(value)
                key = getattr(record, self.to_field_name) if self.to_field_name else record.pk
            except forms.ValidationError:
                key = value
            cached = self._prepared = (value, key)
        return cached[1]


class RecordChoiceFilter(RelatedChoiceFilter):
    """A related record chosen from a list that narrows as people type (static/portal/autocomplete.js).

    ``?programme=<slug>`` and the like keep working: the record is looked up by its key.
    """

    field_class = KeyChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.Select(attrs={"data-module": "autocomplete"}))
        super().__init__(*args, **kwargs)


class RelatedMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """Records chosen by their keys, as checkboxes (a short list: regions, bodies); any of them matches.

    Through a many-to-many or a reverse relation, each matching record once, as a semi-join (see above).
    """

    def __init__(self, *args, **kwargs):
        kwargs.pop("distinct", None)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(*args, distinct=False, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        field = qs.model._meta.get_field(self.field_name.split("__")[0])
        lookup = {f"{self.field_name}__in": list(value)}
        if not (field.many_to_many or field.one_to_many):
            return qs.filter(**lookup)
        return qs.filter(pk__in=qs.model._base_manager.filter(**lookup).values("pk"))


class PortalFilterSet(django_filters.FilterSet):
    """Adds ``q``: PostgreSQL full-text search, read as the search box reads it, and exact codes.

    What was typed is matched by ``registry.text_search`` (search.query.matching_records: abbreviations
    both ways, British and American spellings, stems, hyphens, near spellings; a kind the search keeps a
    document of is found by that document, as on the search page, so a workstream by its programme and
    regions); without it, by the words alone against ``search_fields``. The last word also matches as the
    start of a word, so a list narrows as people type; matches come best first unless another order is
    chosen. ``code_fields`` are matched as the start of a code, so an ODS code, slug or email finds its
    record.

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
        for name, filter_ in self.filters.items():
            # A short list of choices reads best as checkboxes (the NHS pattern), not a multiple select.
            # Assigned, not defaulted: other users of the filterset (the API schema) may have set one.
            if isinstance(filter_, django_filters.MultipleChoiceFilter):
                filter_.extra["widget"] = forms.CheckboxSelectMultiple
            if isinstance(filter_, (django_filters.ModelChoiceFilter, django_filters.ChoiceFilter)) and (
                filter_.extra.get("empty_label", "---------") in ("---------", "Any")  # Django's, or the setting's
            ):
                filter_.extra["empty_label"] = f"Any {str(filter_.label or name).lower()}"  # never "---------"
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.extra["widget"] = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
            choices = (
                django_filters.ChoiceFilter,
                django_filters.MultipleChoiceFilter,
                django_filters.ModelChoiceFilter,
            )
            if isinstance(filter_, choices):
                # The message names the field (the NHS error pattern), as the portal's forms do.
                label = str(filter_.label or name).lower()
                filter_.extra["error_messages"] = {
                    "invalid_choice": f"Select {'an' if label[:1] in 'aeiou' else 'a'} {label} from the list.",
                    "invalid_list": f"Select {'an' if label[:1] in 'aeiou' else 'a'} {label} from the list.",
                }
            # A form field built earlier (and copied with the filter) would keep its old widget.
            filter_.__dict__.pop("_field", None)

    @classmethod
    def unfiltered(cls, queryset):
        """What the filterset gives for no parameters (every filter's empty value leaves a queryset as it is). A
        filterset that filters without parameters (its own ``filter_queryset``) says so here too
        (nhs_joint.api.PortalFilterBackend reads it without building the filterset)."""
        return queryset

    def search_vector_expression(self):
        if self.search_vector:
            return StoredVector(self.search_vector)
        return SearchVector(*self.search_fields, config=CONFIG)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        vector = self.search_vector_expression()
        if registry.text_search is not None:
            matched = registry.text_search(queryset, value, vector)
        else:
            text = prefix_query(value)
            matched = None if text is None else (Q(Matches(vector, TsQuery(text))), Rank(vector, TsQuery(text)))
        match = Q()
        if matched is not None:
            match, rank = matched
            # Best matches first; an ordering chosen on the page (applied after) replaces this.
            queryset = queryset.order_by(rank.desc(), F("pk").asc())
        for field in self.code_fields:
            match |= Q(**{f"{field}__istartswith": value})
        if not match:
            return queryset.none()
        return queryset.filter(match)
