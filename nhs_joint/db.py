"""Database helpers shared by the portal's apps."""

from django.contrib.postgres.fields import DateRangeField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DateRange(models.Func):
    """PostgreSQL ``daterange(start, end, '[]')``: both ends inclusive, an empty end open."""

    function = "daterange"
    output_field = DateRangeField()

    def __init__(self, start, end, bounds="[]", **extra):
        super().__init__(start, end, models.Value(bounds), **extra)


def end_not_before_start(model_name, start="start_date", end="end_date"):
    """A check constraint: ``end`` is empty or not before ``start``."""
    return models.CheckConstraint(
        condition=Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": models.F(start)}),
        name=f"{model_name}_{end}_not_before_{start}",
        violation_error_message=f"The {end.replace('_', ' ')} must not be before the {start.replace('_', ' ')}.",
    )


def percentage(model_name, field):
    """A check constraint: ``field`` lies between 0 and 100."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}),
        name=f"{model_name}_{field}_between_0_and_100",
        violation_error_message=f"The {field.replace('_', ' ')} must lie between 0 and 100.",
    )


def check_dates_in_order(obj, start="start_date", end="end_date", start_label=None, end_label=None):
    """Model validation behind ``end_not_before_start``: the message goes on the end date's field."""
    from django.core.exceptions import ValidationError
    from django.utils import formats

    first, last = getattr(obj, start), getattr(obj, end)
    if first and last and last < first:
        end_label = end_label or obj._meta.get_field(end).verbose_name
        start_label = start_label or obj._meta.get_field(start).verbose_name
        raise ValidationError(
            {
                end: f"The {end_label} must be the same as or after the {start_label} ({formats.date_format(first, 'j F Y')})."
            }
        )


def current_q(on=None, prefix="", start="start_date", end="end_date"):
    """Q for records whose dates include ``on`` (today by default); an empty end is open.

    The one definition of "current on a date" for appointments, workstreams, expectations (their end is
    ``due_date``) and the reports' rules; ``prefix`` reaches the dates through a relation.
    """
    on = on or timezone.localdate()
    return Q(**{f"{prefix}{start}__lte": on}) & (
        Q(**{f"{prefix}{end}__isnull": True}) | Q(**{f"{prefix}{end}__gte": on})
    )


def _text_field(model, path):
    """Whether ``path`` ("title", "programme__title") ends at a text field of ``model``."""
    field = None
    for part in path.split("__"):
        if model is None:
            return False
        try:
            field = model._meta.get_field(part)
        except Exception:  # an annotation or a lookup: left as it is
            return False
        model = field.related_model
    return isinstance(field, (models.CharField, models.TextField)) and not field.choices


def natural_order(queryset):
    """The queryset in the order people expect of names: text compared without regard to case ("Seven day
    services" before "STP and integrated care"), whether the order is the model's own or chosen on the page.

    Each text field of the record itself in the order is compared in lower case (then the rest of the order,
    and the key, break ties); other orderings (dates, numbers, expressions such as a search's rank) and fields
    of related records are kept as they are, so that a long list ordered by a related record (measurements by
    measure) is still read in index order at England scale.
    """
    from django.db.models.functions import Lower

    query = queryset.query
    order = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    if not order or not any(isinstance(item, str) for item in order):
        return queryset
    natural = []
    for item in order:
        name = item.lstrip("-") if isinstance(item, str) else ""
        if name and "__" not in name and name != "pk" and _text_field(queryset.model, name):
            lower = Lower(name)
            natural.append(lower.desc() if item.startswith("-") else lower.asc())
        else:
            natural.append(item)
    if natural == order:  # nothing compared as text: the order (and its indexes) as it was
        return queryset
    return queryset.order_by(*natural, "pk")


def kept_history(old_app, **options):
    """simple-history's records for a model that moved to another app, in the tables it had before the move.

    A model given ``db_table = "<old_app>_<model>"`` keeps its table; this keeps its history's tables too: the
    historical table and, for each of ``m2m_fields``, the historical table of that relation.
    """
    from simple_history.models import HistoricalRecords

    class KeptHistoricalRecords(HistoricalRecords):
        def contribute_to_class(self, cls, name):
            self.table_name = f"{old_app}_historical{cls._meta.model_name}"
            super().contribute_to_class(cls, name)

        def get_meta_options_m2m(self, through_model):
            meta = super().get_meta_options_m2m(through_model)
            meta["db_table"] = f"{old_app}_{self.get_history_model_name(through_model).lower()}"
            return meta

    return KeptHistoricalRecords(**options)
