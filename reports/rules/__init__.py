"""The rules of the consistency and duplication reports, one small module each.

Each module has a docstring stating its rule in NHS words and a function
``check(context)`` that yields ``FindingData``. Rules query the whole store in a
fixed number of queries (never one per record), so a run costs the same
number of queries for seven regions or seventy.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone


@dataclass
class Context:
    today: dt.date = field(default_factory=timezone.localdate)


@dataclass
class FindingData:
    rule: str
    message: str
    records: list  # [{"type", "id", "key", "label"}]
    severity: str = "medium"
    region_id: int | None = None
    score: float | None = None
    shared_terms: list = field(default_factory=list)


def ref(obj, type_name=None):
    """A record as a finding names it: its type, id, natural key (or id) and a label."""
    key = obj.natural_key()[0] if hasattr(obj, "natural_key") else obj.pk
    return {"type": type_name or obj._meta.model_name, "id": obj.pk, "key": str(key), "label": str(obj)}


def current(prefix="", on=None):
    """Q for records whose start..end dates include ``on`` (an open end is current)."""
    on = on or timezone.localdate()
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


def months_of(start, end):
    """The months from ``start`` to ``end`` in words: "April 2018 to March 2019", or "April 2018" for one month."""
    first, last = f"{start:%B %Y}", f"{end:%B %Y}"
    return first if first == last else f"{first} to {last}"


def overlap_of(a, b, start="start_date", end="due_date"):
    """The dates two records share: (the later start, the earlier end); they overlap when the first is not after the second."""
    return max(getattr(a, start), getattr(b, start)), min(getattr(a, end), getattr(b, end))


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str  # "consistency" or "duplication"
    severity: str
    check: object
    summary: str


def _registry():
    from . import (
        appointment_shares,
        board_approval,
        duplicate_ask,
        duplicate_post,
        duplicate_work,
        expectation_conflict,
        measure_data_gap,
        region_director,
        regional_coverage,
        statutory_accountability,
    )

    modules = [
        ("region-director", "consistency", "high", region_director),
        ("expectation-conflict", "consistency", "high", expectation_conflict),
        ("statutory-accountability", "consistency", "high", statutory_accountability),
        ("board-approval", "consistency", "high", board_approval),
        ("appointment-shares", "consistency", "medium", appointment_shares),
        ("regional-coverage", "consistency", "medium", regional_coverage),
        ("measure-data-gap", "consistency", "low", measure_data_gap),
        ("duplicate-work", "duplication", "medium", duplicate_work),
        ("duplicate-post", "duplication", "medium", duplicate_post),
        ("duplicate-ask", "duplication", "medium", duplicate_ask),
    ]
    return {
        code: Rule(code, kind, severity, module.check, (module.__doc__ or "").strip().splitlines()[0])
        for code, kind, severity, module in modules
    }


def rules_of(kind):
    return [rule for rule in _registry().values() if rule.kind == kind]


def all_rules():
    return _registry()
