"""Archive instead of delete: records people made leave the lists and the reports, but are never lost.

An archivable model inherits ``Archivable`` (a nullable ``archived_at``) and
uses ``LiveManager`` as its default manager, so every ordinary query (lists,
filters, reports, dashboards, choices in forms) sees only live records. A model
whose records belong to an archivable parent (a programme's workstreams) names
the parent to the manager, and is hidden with it.

Pages that must reach archived records (a record's own page, its history, the
"archived" list, restoring) ask for them explicitly with ``including_archived()``
or use the plain ``all_objects`` manager.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.admin.utils import NestedObjects
from django.db import models, router
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst

_including_archived = ContextVar("including_archived", default=False)


@contextmanager
def including_archived():
    """Within this block, querysets built from live managers include archived records."""
    token = _including_archived.set(True)
    try:
        yield
    finally:
        _including_archived.reset(token)


def archived_included():
    """Whether querysets built now include archived records (within ``including_archived()``)."""
    return _including_archived.get()


class LiveManager(models.Manager):
    """Live records only: not archived, and not belonging to an archived parent."""

    def __init__(self, *parents):
        super().__init__()
        self.parents = parents

    def get_queryset(self):
        queryset = super().get_queryset()
        if _including_archived.get():
            return queryset
        condition = Q(archived_at__isnull=True) if is_archivable(self.model) else Q()
        for parent in self.parents:
            condition &= Q(**{f"{parent}__archived_at__isnull": True})
        return queryset.filter(condition)


def live_q(model, prefix=""):
    """Q for live records of ``model`` reached through a join at ``prefix`` (e.g. "measure__expectations__").

    A live manager filters only the rows it returns itself: the far side of a join needs this.
    """
    manager = model._default_manager
    condition = Q(**{f"{prefix}archived_at__isnull": True}) if is_archivable(model) else Q()
    for parent in getattr(manager, "parents", ()):
        condition &= Q(**{f"{prefix}{parent}__archived_at__isnull": True})
    return condition


class Archivable(models.Model):
    """A record that is archived, never deleted, by the people who edit it."""

    archived_at = models.DateTimeField("archived", null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_archived(self):
        return self.archived_at is not None

    def archive(self):
        self.archived_at = timezone.now()
        self.save()

    def restore(self):
        self.archived_at = None
        self.save()

    def _perform_unique_checks(self, unique_checks):
        # An archived record still holds its natural key (a slug, an email): a new one may not take it.
        with including_archived():
            return super()._perform_unique_checks(unique_checks)


def is_archivable(model):
    return isinstance(model, type) and issubclass(model, Archivable)


def is_hidden(obj):
    """Whether ``obj`` is archived, or belongs to an archived record (a workstream of an archived programme)."""
    manager = type(obj)._default_manager
    if not isinstance(manager, LiveManager):
        return False
    return not manager.filter(pk=obj.pk).exists()


def with_archived(queryset):
    """``queryset`` (built from a live manager) again, archived records included: same joins and order."""
    plain = queryset.model._base_manager.all()
    plain.query.select_related = queryset.query.select_related
    plain.query.order_by = queryset.query.order_by
    plain._prefetch_related_lookups = queryset._prefetch_related_lookups
    return plain


def consequences(obj):
    """What deleting ``obj`` would take with it, archived records included: (collector, {kind: count})."""
    collector = NestedObjects(using=router.db_for_write(obj.__class__))
    with including_archived():
        collector.collect([obj])
    counts = {}
    for model, instances in collector.model_objs.items():
        if model is obj.__class__ or model._meta.auto_created or model.__name__.startswith("Historical"):
            continue
        counts[capfirst(model._meta.verbose_name_plural)] = len(instances)
    return collector, counts


def blocker_lines(protected, counts=None):
    """Lines naming what stops a deletion: the protected records, and ``counts`` of what would go with it."""
    lines = {f"{capfirst(record._meta.verbose_name)}: {record}" for record in protected}
    lines |= {f"{name}: {count}" for name, count in (counts or {}).items()}
    return sorted(lines)


def dependants(obj):
    """Lines naming what hangs off ``obj``: a record people archive is deleted for good only alone."""
    collector, counts = consequences(obj)
    return blocker_lines(collector.protected, counts)
