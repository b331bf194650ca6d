"""The rules of the consistency and duplication reports, one small module each.

Each module has a docstring stating its rule in NHS words and a function
``check(context)`` that yields ``FindingData``, declared with ``@rule(code,
kind, severity)``: the engine stamps every finding with its rule's code and
severity, and a new module in this package is found without being listed. Rules query the whole store in a
fixed number of queries (never one per record), so a run costs the same
number of queries for seven regions or seventy.
"""

import datetime as dt
import importlib
import pkgutil
import sys
from dataclasses import dataclass, field

from django.utils import timezone

from nhs_joint.dates import format_month
from nhs_joint.db import current_q


@dataclass
class Context:
    today: dt.date = field(default_factory=timezone.localdate)
    # What a rule finds besides findings, written with the run's findings: each record's closest records
    # elsewhere (reports.services._keep_similar_records) and figures for the run's counts ({name: figures}).
    similar_records: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)


@dataclass
class FindingData:
    message: str
    records: list  # [{"type", "id", "key", "label"}]
    region_id: int | None = None
    score: float | None = None
    shared_terms: list = field(default_factory=list)
    pairs: list = field(default_factory=list)  # duplicate work: each pair found, with its probability
    rule: str = ""  # stamped by the engine from the rule's declaration
    severity: str = ""  # likewise


def ref(obj, type_name=None):
    """A record as a finding names it: its type, id, natural key (or id) and a label."""
    key = obj.natural_key()[0] if hasattr(obj, "natural_key") else obj.pk
    return {"type": type_name or obj._meta.model_name, "id": obj.pk, "key": str(key), "label": str(obj)}


PAIRS_AT_A_TIME = 2000


def in_pairs(pairs, records):
    """(record, record) of each (id, id) of the queryset ``pairs``, read PAIRS_AT_A_TIME at a time, the records
    from the queryset ``records`` as the pairs name them (each read once): a rule that pairs asks holds a
    chunk of pairs, not every pair, however many the store has."""
    found = {}
    chunk = []
    for pair in pairs.iterator(chunk_size=PAIRS_AT_A_TIME):
        chunk.append(pair)
        if len(chunk) == PAIRS_AT_A_TIME:
            yield from _read_pairs(chunk, records, found)
            chunk = []
    yield from _read_pairs(chunk, records, found)


def _read_pairs(chunk, records, found):
    missing = {i for pair in chunk for i in pair} - found.keys()
    if missing:
        found.update(records.in_bulk(missing))
    for a, b in chunk:
        yield found[a], found[b]


def current(prefix="", on=None):
    """Q for records whose start..end dates include ``on`` (an open end is current)."""
    return current_q(on, prefix)


def months_of(start, end):
    """The months from ``start`` to ``end`` in words: "April 2018 to March 2019", or "April 2018" for one month."""
    first, last = format_month(start), format_month(end)
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
    name: str = ""  # what pages call it ("Duplicate work"), never its code alone; rule_name() fills a blank one


_RULES: dict[str, Rule] = {}
KINDS = ("consistency", "duplication")
SEVERITIES = ("high", "medium", "low")


def rule(code, kind, severity, name=None):
    """Declare a module's ``check(context)`` as the rule ``code`` of a report ``kind``, with its severity and
    the ``name`` pages show (by default the code in words)."""
    if kind not in KINDS or severity not in SEVERITIES:
        raise ValueError(f"Rule {code}: kind must be one of {KINDS} and severity one of {SEVERITIES}.")

    def register(check):
        module = sys.modules[check.__module__]
        if code in _RULES and _RULES[code].check is not check:
            raise ValueError(f"Two rules are declared as {code!r}.")
        summary = (module.__doc__ or "").strip().splitlines()[0]
        _RULES[code] = Rule(code, kind, severity, check, summary, name or code.replace("-", " ").capitalize())
        return check

    return register


def _registry():
    """Every rule of the package: importing its modules declares them."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_RULES.items(), key=lambda item: (KINDS.index(item[1].kind), item[0])))


def rules_of(kind):
    return [rule for rule in _registry().values() if rule.kind == kind]


def all_rules():
    return _registry()


def rule_name(code):
    """The name of the rule ``code`` as pages show it; a code no longer declared, in words."""
    rule = _RULES.get(code) or _registry().get(code)  # asked per list row: the modules are imported on a miss
    return rule.name if rule and rule.name else str(code).replace("-", " ").capitalize()
