"""A record's history in words: what the history pages, the API and conflict messages show.

Every model of the portal keeps a history (django-simple-history). This module turns its entries into
what a person can read: field labels instead of names, choices by their label, related records by their
name (linked to their page), many-to-many changes as "added …" / "removed …", long texts as a word-level
difference, dates as "29 November 2026" and times as "29 November 2026 at 2:48pm".

It knows no app: it works from each model's ``_meta``, its fields' choices and relations, and
simple-history's own record of many-to-many fields. The related records named on a page are read
together, one query per related model, so the cost of a page does not grow with its entries.

Functions others may call:

- ``history_entries(obj, records=None, join_saves=True)``: entries for ``obj`` (or for the given slice of its history).
- ``describe_history(model, records, before, join_saves=True)``: entries for history records, newest first.
- ``describe(record, previous, model)``: one entry.
- ``entries_since(obj, version)``: what others changed after the version a form was opened at.
- ``format_value(field, value)``: values in words (dates and times by nhs_joint.dates).
- ``word_diff(old, new)`` and ``word_diff_html(ops)``: a word-level difference, as data or as HTML.
- ``field_label(model, name)``: a field's label as forms show it.
- ``entry_as_json(entry)``: an entry as the API gives it.

An entry is a dict: ``id`` (the history id of its newest record), ``when``, ``who``, ``kind`` (created,
changed, archived, restored, deleted), ``kind_label``, ``reason`` and ``changes``, each a dict of
``field``, ``label``, ``old`` and ``new`` (text, "" when empty), ``old_href``/``new_href`` (the related
record's page, or None), ``added``/``removed`` (for many-to-many: [{"text", "href"}], else None),
``words`` (for long texts: the word difference, else None) and ``words_html`` (the same as safe HTML).
"""

import datetime as dt
import difflib
import json
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.text import capfirst
from markupsafe import Markup, escape

from .dates import format_date, format_datetime

ARCHIVED_FIELD = "archived_at"  # a nullable date and time: empty while the record is live
LONG_TEXT = 80  # characters: a longer text is shown as a word-level difference
CONTEXT_WORDS = 8  # unchanged words kept either side of a change when a long text is shown on a page

KIND_LABELS = {
    "created": "Created",
    "changed": "Changed",
    "archived": "Archived",
    "restored": "Restored",
    "deleted": "Deleted",
}
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def format_number(value):
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


# Fields and values.


def field_label(model, name):
    """The label of a field as forms show it: "Senior responsible owner"."""
    try:
        return capfirst(str(model._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " "))


def _choice_label(field, value):
    if field.choices:
        labels = {str(k): str(v) for k, v in field.flatchoices}
        return labels.get(str(value), str(value))
    return None


def format_value(field, value, related=None):
    """A stored value of ``field`` in words, or "" when empty.

    ``related`` maps the id of a related record to the record (see ``_load_related``); without it a
    foreign key is shown by its id.
    """
    if value is None or value == "" or value == []:
        return ""
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return _related_record_in_words(field, value, related)
    if isinstance(value, (list, tuple)):
        base = getattr(field, "base_field", None)
        parts = [(_choice_label(base, item) if base is not None else None) or str(item) for item in value]
        return ", ".join(parts)
    label = _choice_label(field, value)
    if label is not None:
        return label
    if isinstance(field, models.BooleanField) or isinstance(value, bool):
        return "Yes" if value else "No"
    return _plain_value_in_words(value)


def _related_record_in_words(field, value, related):
    """The related record's name; its id when the records were not read; "… (since deleted)" when gone."""
    record = (related or {}).get(value)
    if record is not None:
        return str(record)
    if related is None:
        return str(value)
    return f"{capfirst(str(field.related_model._meta.verbose_name))} {value} (since deleted)"


def _plain_value_in_words(value):
    """A date, time, number or structure that no field's choices or relation word differently."""
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _href(record):
    if record is None or not hasattr(record, "get_absolute_url"):
        return None
    try:
        return record.get_absolute_url()
    except NoReverseMatch:
        return None


# Word-level differences of long texts.

_TOKENS = re.compile(r"\s+|[^\s]+")
_WORDS = re.compile(r"\S+\s*|\s+")  # each word with the spaces after it, so changed words stay together
_TRAILING_SPACE = re.compile(r"(.*?)(\s*)", re.DOTALL)


def word_diff(old, new):
    """The difference of two texts word by word: [{"op": "equal"|"insert"|"delete", "text": ...}].

    Words are compared without the spaces after them. Joining the equal and inserted texts gives ``new``;
    the equal and deleted ones give ``old`` but for the spacing.
    """
    a = _WORDS.findall(old or "")
    b = _WORDS.findall(new or "")
    a_words = [token.rstrip() for token in a]
    b_words = [token.rstrip() for token in b]
    ops = []

    def add(op, tokens):
        text = "".join(tokens)
        if not text:
            return
        if ops and ops[-1]["op"] == op:
            ops[-1]["text"] += text
        else:
            ops.append({"op": op, "text": text})

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_words, b_words, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", b[j1:j2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return ops


def _shorten(text, keep_start, keep_end):
    """An unchanged stretch of a long text, with the words far from any change left out."""
    if not keep_start and not keep_end:
        return text
    words = _TOKENS.findall(text)
    count = sum(1 for w in words if not w.isspace())
    if count <= keep_start + keep_end + 2:
        return text
    head, tail, seen = [], [], 0
    if keep_start:
        for w in words:
            head.append(w)
            seen += not w.isspace()
            if seen >= keep_start:
                break
    seen = 0
    if keep_end:
        for w in reversed(words):
            tail.insert(0, w)
            seen += not w.isspace()
            if seen >= keep_end:
                break
    return "".join(head).rstrip() + (" … " if head and tail else ("… " if tail else " …")) + "".join(tail).lstrip()


def word_diff_html(ops, context=CONTEXT_WORDS):
    """HTML of a word difference: <ins> and <del>, each starting with visually hidden words ("added:",
    "removed:") so that the change is not told by colour or strike-through alone. Everything is escaped."""
    parts = []
    last = len(ops) - 1
    for index, op in enumerate(ops):
        text = op["text"]
        if op["op"] == "equal":
            if context is not None:
                text = _shorten(text, context if index > 0 else 0, context if index < last else 0)
            parts.append(escape(text))
        else:
            # The spaces after the last changed word are not part of the change.
            words, space = _TRAILING_SPACE.fullmatch(text).groups()
            tag, said = ("ins", "added") if op["op"] == "insert" else ("del", "removed")
            if words:
                parts.append(
                    Markup(
                        '<{tag} class="portal-diff__{tag}"><span class="nhsuk-u-visually-hidden">[{said}: </span>'
                        '{words}<span class="nhsuk-u-visually-hidden">]</span></{tag}>'
                    ).format(tag=tag, said=said, words=words)
                )
            if space:
                parts.append(escape(space))
    return Markup("").join(parts)


# Reading the history records.


def _diff_fields(history_model):
    """The fields whose changes a person made: editable ones, and the archive mark whatever it is."""
    return [
        f
        for f in history_model.tracked_fields
        if (f.editable or f.name == ARCHIVED_FIELD) and not f.primary_key and f.name != "version"
    ]


def _m2m_history_model(field, record):
    from simple_history.models import HistoricalRecords

    model = HistoricalRecords.m2m_models.get(field)
    if model is None:  # pragma: no cover - simple-history always registers it
        model = getattr(record, field.name).model
    return model


def _m2m_sets(field, records):
    """{history_id: set of related ids} of one many-to-many field, for all ``records``: one query."""
    if not records:
        return {}
    m2m_model = _m2m_history_model(field, records[0])
    target = m2m_model._meta.get_field(field.m2m_reverse_field_name()).attname
    sets = {record.history_id: set() for record in records}
    rows = m2m_model.objects.filter(history_id__in=list(sets)).values_list("history_id", target)
    for history_id, related_id in rows:
        sets[history_id].add(related_id)
    return sets


def _load_related(wanted):
    """{model: {id: record}} for {model: set of ids}: one query per related model.

    The related records' own foreign keys are read in the same query, since their names often use them
    ("Alex Jones: Regional director"). Archived records are named too.
    """
    loaded = {}
    for model, ids in wanted.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            loaded[model] = {}
            continue
        joins = [f.name for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]
        queryset = model._base_manager.filter(pk__in=ids)
        if joins:
            queryset = queryset.select_related(*joins)
        loaded[model] = {record.pk: record for record in queryset}
    return loaded


def _who(record):
    user = getattr(record, "history_user", None)
    if user is None:
        return "The system"
    return str(user)


def _is_long(field, old, new):
    if isinstance(field, models.TextField):
        return True
    return any(isinstance(v, str) and len(v) > LONG_TEXT for v in (old, new))


SAVED_TOGETHER = dt.timedelta(seconds=1)


def _raw_changes(record, previous, fields, m2m_fields, m2m_sets):
    """[(kind, field, old, new)] between two history records: kind "value", or "set" for many-to-many."""
    changes = []
    if record.history_type != "~" or previous is None:
        return changes
    for field in fields:
        old, new = getattr(previous, field.attname), getattr(record, field.attname)
        if old != new:
            changes.append(("value", field, old, new))
    for field in m2m_fields:
        old, new = m2m_sets[field.name][previous.history_id], m2m_sets[field.name][record.history_id]
        if old != new:
            changes.append(("set", field, old, new))
    return changes


def _saved_together(newer, older, newer_changes):
    """Whether ``newer`` is a step of the same save as ``older``.

    Saving a record writes one history entry for its fields, then one for each step of setting a
    many-to-many field (removing, then adding): those steps are shown with the save (or the creation)
    they belong to, so one save reads as one entry. Only entries that change nothing but many-to-many fields are joined,
    so no value anyone entered is hidden.
    """
    return (
        newer.history_type == "~"
        and older.history_type in ("+", "~")
        and all(what == "set" for what, *_ in newer_changes)
        and newer.history_user_id == older.history_user_id
        and (newer.history_change_reason or "") == (older.history_change_reason or "")
        and abs(newer.history_date - older.history_date) <= SAVED_TOGETHER
    )


def describe_history(model, records, before=None, join_saves=True):
    """Entries in words for history ``records`` of one record of ``model``, newest first.

    ``before`` is the history record just older than the last of ``records`` (None when that is the
    first), so that the oldest entry of a page can be compared too. With ``join_saves`` the steps of one
    save are one entry (see ``_saved_together``); without, there is one entry per history record (as the
    API gives them, one per version of the record). Queries: one per many-to-many field and one per related model, whatever
    the number of records.
    """
    records = list(records)
    history_model = model.history.model
    fields = _diff_fields(history_model)
    m2m_fields = list(getattr(history_model, "_history_m2m_fields", []))
    everything = records + ([before] if before is not None else [])
    m2m_sets = {field.name: _m2m_sets(field, everything) for field in m2m_fields}

    def previous_of(index):
        return records[index + 1] if index + 1 < len(records) else before

    # Group the steps of each save: [newest index, ..., oldest index].
    own = [_raw_changes(r, previous_of(i), fields, m2m_fields, m2m_sets) for i, r in enumerate(records)]
    groups = _group_saves(records, own, join_saves)

    # The changes of each save, collecting the related records they name.
    wanted = {}
    raw = []
    for group in groups:
        record, first = records[group[0]], records[group[-1]]
        if len(group) == 1:
            changes = own[group[0]]
        elif first.history_type == "+":
            # A creation and the lists of records set with it: what those lists were given.
            changes = _raw_changes(record, first, fields, m2m_fields, m2m_sets)
        else:
            changes = _raw_changes(record, previous_of(group[-1]), fields, m2m_fields, m2m_sets)
        _want_related(changes, wanted)
        raw.append((record, first.history_type, changes))

    related = _load_related(wanted)
    return [_entry(record, history_type, changes, related) for record, history_type, changes in raw]


def _group_saves(records, own, join_saves):
    """The steps of each save together: [[newest index, …, oldest index], …] (see ``_saved_together``)."""
    groups = []
    for index, record in enumerate(records):
        if join_saves and groups and _saved_together(records[groups[-1][-1]], record, own[groups[-1][-1]]):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _want_related(changes, wanted):
    """Add the ids of the related records that ``changes`` name to ``wanted`` ({model: {id, …}})."""
    for what, field, old, new in changes:
        if what == "set":
            wanted.setdefault(field.related_model, set()).update(old | new)
        elif field.is_relation:
            wanted.setdefault(field.related_model, set()).update({old, new})


def _entry(record, history_type, changes, related):
    """One entry (see the module's docstring); archiving and restoring are the entry's kind, not a change."""
    kind = HISTORY_TYPES.get(history_type, "changed")
    described = []
    for what, field, old, new in changes:
        if field.name == ARCHIVED_FIELD and (old is None) != (new is None):
            kind = "archived" if old is None else "restored"
            continue
        if what == "set":
            described.append(_set_change(field, old, new, related.get(field.related_model, {})))
        else:
            described.append(
                _value_change(field, old, new, related.get(field.related_model) if field.is_relation else None)
            )
    described.sort(key=lambda c: c["order"])
    return {
        "id": record.history_id,
        "when": record.history_date,
        "who": _who(record),
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "reason": record.history_change_reason or "",
        "changes": described,
    }


def _field_order(field):
    return field.creation_counter


def _value_change(field, old, new, related):
    change = {
        "field": field.name,
        "label": capfirst(str(field.verbose_name)),
        "order": _field_order(field),
        "old": format_value(field, old, related),
        "new": format_value(field, new, related),
        "old_href": None,
        "new_href": None,
        "added": None,
        "removed": None,
        "words": None,
        "words_html": None,
    }
    if field.is_relation and related is not None:
        change["old_href"] = _href(related.get(old))
        change["new_href"] = _href(related.get(new))
    elif _is_long(field, old, new) and isinstance(old or "", str) and isinstance(new or "", str):
        change["words"] = word_diff(old or "", new or "")
        change["words_html"] = word_diff_html(change["words"])
    return change


def _set_change(field, old, new, related):
    def named(ids):
        items = []
        for pk in ids:
            record = related.get(pk)
            text = (
                str(record)
                if record is not None
                else (f"{capfirst(str(field.related_model._meta.verbose_name))} {pk} (since deleted)")
            )
            items.append({"text": text, "href": _href(record)})
        return sorted(items, key=lambda item: item["text"].lower())

    def listed(ids):
        return "; ".join(item["text"] for item in named(sorted(ids)))

    return {
        "field": field.name,
        "label": capfirst(str(field.verbose_name)),
        "order": _field_order(field),
        "old": listed(old),
        "new": listed(new),
        "old_href": None,
        "new_href": None,
        "added": named(new - old),
        "removed": named(old - new),
        "words": None,
        "words_html": None,
    }


def describe(record, previous, model):
    """One history record in words, compared with the one before it (None for the first)."""
    return describe_history(model, [record], previous)[0]


def history_queryset(obj):
    """The history of ``obj``, newest first, with who made each change."""
    return obj.history.select_related("history_user").order_by("-history_id")


def history_entries(obj, records=None, join_saves=True):
    """Entries in words for ``obj``: all of its history, or the given slice of ``history_queryset(obj)``.

    For a slice, the record just before its oldest is read too (one query), to compare that one.
    """
    if records is None:
        return describe_history(type(obj), list(history_queryset(obj)), join_saves=join_saves)
    records = list(records)
    before = None
    if records:
        before = history_queryset(obj).filter(history_id__lt=records[-1].history_id).first()
    return describe_history(type(obj), records, before, join_saves=join_saves)


def entries_since(obj, version):
    """What was changed in ``obj`` after ``version`` (a history id, as nhs_joint.concurrency gives it), in
    words and newest first: for telling someone whose form is out of date what others changed meanwhile.
    An unknown or empty version gives no entries."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        return []
    before = history_queryset(obj).filter(history_id=version).first()
    if before is None:
        return []
    records = list(history_queryset(obj).filter(history_id__gt=version))
    return describe_history(type(obj), records, before)


def has_history(model):
    """Whether ``model`` keeps a history."""
    return model is not None and hasattr(model, "history") and hasattr(model.history, "model")


def entry_as_json(entry):
    """An entry as the API gives it: readable text, empty values as null."""
    return {
        "id": entry["id"],
        "when": entry["when"].isoformat(),
        "who": entry["who"],
        "kind": entry["kind"],
        "reason": entry["reason"],
        "changes": [
            {
                "field": change["field"],
                "label": change["label"],
                "old": change["old"] or None,
                "new": change["new"] or None,
                "added": [item["text"] for item in change["added"]] if change["added"] is not None else None,
                "removed": [item["text"] for item in change["removed"]] if change["removed"] is not None else None,
                "words": change["words"],
            }
            for change in entry["changes"]
        ],
    }
