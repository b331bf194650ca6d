import re

import django_filters
from django import forms
from django.db.models import BooleanField, Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import extend_schema_field

from nhs_joint import parts
from nhs_joint.filters import OnceChoices, PortalFilterSet

from .models import LocalHealthSystem, Region

ENGLAND = "ENG"  # the code that picks the records for all of England (no region)
CODE = re.compile(r"[A-Z0-9]{3}")
WITH_ENGLAND, OWN_ONLY = "with_england", "own"


class RegionCodesField(forms.MultipleChoiceField):
    """Regions by ODS code (``Y56``, or ``ENG`` for all England), as checkboxes; any case, any retired code.

    A bookmarked link may name a region no longer offered (a retired code): it is read, and finds what it finds.
    """

    def to_python(self, value):
        return [code for code in (str(v).strip().upper() for v in super().to_python(value)) if code]

    def valid_value(self, value):
        return bool(CODE.fullmatch(value))


def _region_choices(england):
    def read():
        return [
            (r.ods_code, str(r))
            for r in Region.objects.active().order_by("name").only("ods_code", "name", "short_name")
        ]

    def choices():
        # The same seven regions on every list page: read once per version of the regions' table (nhs_joint/parts.py).
        regions = parts.kept("region-choices", [Region], (), read)
        return regions + ([(ENGLAND, "All of England (no region)")] if england else [])

    return choices


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z0-9]{3}$"})  # an ODS code, or ENG: never read from the data
class RegionFilter(django_filters.MultipleChoiceFilter):
    """Records of the chosen regions, as checkboxes; with ``england``, also the records for all of England.

    With ``england`` a record with no region (a national workstream, an expectation of every area) applies to
    every region, so it is shown with any region chosen, unless ``region_scope=own`` asks for only the regions'
    own records. ``ENG`` picks the England-wide records themselves.
    """

    field_class = RegionCodesField

    def __init__(self, *args, england=False, **kwargs):
        self.england = england
        kwargs["choices"] = OnceChoices(_region_choices(england))
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        codes = set(value or ())
        if not codes:
            return qs
        regional = codes - {ENGLAND}
        scope = WITH_ENGLAND
        parent = getattr(self, "parent", None)
        if parent is not None and "region_scope" in parent.filters:
            scope = parent.form.cleaned_data.get("region_scope") or WITH_ENGLAND
        with_england = self.england and (ENGLAND in codes or (regional and scope != OWN_ONLY))
        name = self.field_name
        field = qs.model._meta.get_field(name)
        match = Q()
        if field.many_to_many:
            through = field.remote_field.through
            source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            if regional and with_england:
                # In the chosen regions, or in none: one look at the record's regions (an index-only scan),
                # not one for "in the regions" and another for "in none", each joining the regions again.
                return qs.filter(_in_regions_or_none(qs.model, through, source, target, sorted(regional)))
            if regional:
                match |= Q(
                    Exists(through.objects.filter(**{source: OuterRef("pk"), f"{target}__ods_code__in": regional}))
                )
            if with_england:
                match |= ~Q(Exists(through.objects.filter(**{source: OuterRef("pk")})))
        else:
            if regional:
                # The regions' ids from a subquery PostgreSQL runs first: the rows are then found by an index on
                # the region's id, where a join to the regions would filter them one by one.
                ids = Region.objects.filter(ods_code__in=regional).values("pk")
                match |= Q(**{f"{name}__in": Subquery(ids)})
            if with_england:
                match |= Q(**{f"{name}__isnull": True})
        if not match:
            return qs.none()
        return qs.filter(match)


def _in_regions_or_none(model, through, source, target, codes):
    """Whether a record is in one of the regions ``codes`` or in no region at all, as one correlated subquery:
    ``bool_or`` of its links is true (in one of them), false (only in others) or null (in none); the regions'
    ids are read once for the whole query (``ARRAY(…)``: an InitPlan)."""
    meta, link = model._meta, through._meta
    source_column = link.get_field(source).column
    target_column = link.get_field(target).column
    region = Region._meta
    code_column = region.get_field("ods_code").column
    sql = (
        f'(SELECT bool_or(l."{target_column}" = ANY(ARRAY(SELECT r."{region.pk.column}" FROM "{region.db_table}" r '
        f'WHERE r."{code_column}" = ANY(%s)))) FROM "{link.db_table}" l '
        f'WHERE l."{source_column}" = "{meta.db_table}"."{meta.pk.column}") IS NOT FALSE'
    )
    return RawSQL(sql, [list(codes)], output_field=BooleanField())


class ScopeWidget(forms.RadioSelect):
    """Unless asked otherwise, the records for all of England are shown with the chosen regions'."""

    def value_from_datadict(self, data, files, name):
        return data.get(name) or WITH_ENGLAND


class _ScopeChoices:
    """The scope's choices, worded from the filterset's data when drawn (not copied with the form)."""

    def __init__(self, filter_):
        self.filter = filter_

    def __call__(self):
        return self.filter.scope_choices()

    def __deepcopy__(self, memo):
        return self


class RegionScopeFilter(django_filters.ChoiceFilter):
    """Read by the region filter: whether England-wide records come with the chosen regions' own."""

    def __init__(self, *args, **kwargs):
        kwargs["choices"] = [(WITH_ENGLAND, WITH_ENGLAND), (OWN_ONLY, OWN_ONLY)]
        kwargs["widget"] = ScopeWidget
        kwargs.setdefault("label", "Records for all of England")
        kwargs["empty_label"] = None
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        field = super().field
        if not isinstance(getattr(field, "_portal_scope", None), _ScopeChoices):
            field._portal_scope = field.choices = _ScopeChoices(self)
        return field

    def scope_choices(self):
        """“London and England-wide” when one region is chosen (its name from the region filter's choices)."""
        place = "the chosen regions"
        parent = getattr(self, "parent", None)
        if parent is not None:
            codes = {str(code).strip().upper() for code in parent.data.getlist("region")} - {ENGLAND, ""}
            if len(codes) == 1 and "region" in parent.form.fields:
                names = dict(parent.form.fields["region"].choices)
                place = names.get(codes.pop(), place)
        if place == "the chosen regions":
            return [(WITH_ENGLAND, "The chosen regions and England-wide"), (OWN_ONLY, "Only the chosen regions' own")]
        return [(WITH_ENGLAND, f"{place} and England-wide"), (OWN_ONLY, f"Only {place}'s own")]

    def filter(self, qs, value):
        return qs  # the region filter reads it


def region_filter(field_name="region", label="Region", england=False):
    """Filter by regions' ODS codes (checkboxes); with ``england``, records for all England come too.

    A filterset with an ``england`` region filter declares ``region_scope = region_scope_filter()`` beside it.
    """
    return RegionFilter(field_name=field_name, label=label, england=england)


def region_scope_filter():
    return RegionScopeFilter(label="Records for all of England")


class RegionFilterSet(PortalFilterSet):
    search_fields = ("name", "short_name")
    code_fields = ("ods_code",)
    active = django_filters.BooleanFilter(label="Active")
    ordering = django_filters.OrderingFilter(fields=(("ods_code", "code"), ("name", "name")))

    class Meta:
        model = Region
        fields = ["q", "active"]


class LocalHealthSystemFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("ods_code",)
    region = region_filter()
    ordering = django_filters.OrderingFilter(
        fields=(("ods_code", "code"), ("name", "name"), ("region__name", "region"))
    )

    class Meta:
        model = LocalHealthSystem
        fields = ["q", "region"]
