"""Three-way merge of an edit form: write only what the person changed.

An edit form carries, besides the version it was opened at, the values it was
opened with (``ORIGINAL_FIELD``, signed so that it cannot be forged). When it
comes back, each field is compared three ways:

- *base*: the value when the person opened the form;
- *mine*: the value they submitted;
- *theirs*: the value in the database now.

A field the person did not change takes the value in the database, so
somebody else's change to it is kept. A field only the person changed takes
their value. A field both changed to different values is a conflict: nothing
is written until the person chooses which value to keep.

Everything works through the form's own fields and widgets, so it serves every
model form of the portal, including fields that are not model fields (shares).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.core import signing
from django.http import QueryDict

from .dates import format_date
from .forms import DayMonthYearWidget

ORIGINAL_FIELD = "_original"
CONFLICTS_FIELD = "_conflicts"
CHOICE_PREFIX = "_keep_"
MINE, THEIRS = "mine", "theirs"
_SALT = "nhs_joint.merge.original"
_UNKNOWN = object()


def widget_data(bound_field, value) -> dict[str, list[str]]:
    """What the field's widget would submit for ``value``: {key in the form data: [values]}."""
    name = bound_field.html_name
    widget = bound_field.field.widget
    value = bound_field.field.prepare_value(value)
    if isinstance(widget, DayMonthYearWidget):
        return {f"{name}-{part}": [str(v)] for part, v in zip(widget.parts, widget.split(value))}
    if getattr(widget, "allow_multiple_selected", False):
        return {name: [str(v) for v in (value or [])]}
    if isinstance(widget, forms.CheckboxInput):
        return {name: ["on"] if value else []}
    shown = widget.format_value(value)
    if isinstance(shown, (list, tuple)):  # a select gives the list of its selected options
        return {name: [str(v) for v in shown][:1] or [""]}
    return {name: ["" if shown is None else str(shown)]}


def opened_data(form) -> dict[str, dict[str, list[str]]]:
    """An unbound form's values as its widgets would submit them, field by field."""
    return {name: widget_data(form[name], form[name].initial) for name in form.fields if not form.fields[name].disabled}


def sign_original(form) -> str:
    """The hidden value an edit form carries: the values it was opened with."""
    return signing.dumps(opened_data(form), salt=_SALT, compress=True)


def read_original(token: str):
    """The values a form was opened with, or None when the token is missing, forged or malformed."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return data


def as_query_dict(per_field: dict[str, dict[str, list[str]]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for keys in per_field.values():
        for key, values in keys.items():
            data.setlist(key, list(values))
    return data


def _keys_of(bound_field) -> set[str]:
    """Every key of the form data that belongs to the field."""
    return set(widget_data(bound_field, None))


def comparable(bound_field):
    """A field's submitted value in a form that compares equal when the values mean the same."""
    field_ = bound_field.field
    try:
        value = field_.clean(bound_field.data)
    except forms.ValidationError:
        return ("not valid", repr(bound_field.data))
    if isinstance(field_, forms.ModelMultipleChoiceField):
        return tuple(sorted(str(obj.pk) for obj in value))
    if isinstance(field_, forms.ModelChoiceField):
        return str(value.pk) if value is not None else ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return tuple(sorted(str(v) for v in value))
    return value


def shown(bound_field) -> str:
    """A field's value as a person reads it: names, labels and dates, not stored values."""
    field_ = bound_field.field
    try:
        value = field_.clean(bound_field.data)
    except forms.ValidationError:
        return str(bound_field.data)
    if value in (None, "") or value == [] or (hasattr(value, "exists") and not value.exists()):
        return "(empty)"
    if isinstance(field_, forms.ModelMultipleChoiceField):
        return ", ".join(str(obj) for obj in value)
    if isinstance(field_, forms.ModelChoiceField):
        return str(value)
    if isinstance(field_, forms.ChoiceField):
        labels = {str(key): label for key, label in field_.choices}
        if isinstance(value, (list, tuple)):
            return ", ".join(str(labels.get(str(v), v)) for v in value)
        return str(labels.get(str(value), value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


@dataclass
class Merge:
    """The outcome of comparing a submitted edit with the form as opened and the record as it is now."""

    data: QueryDict  # the form data to validate and save: mine where I changed a field, theirs elsewhere
    changed: list[str] = field(default_factory=list)  # fields whose saved value will differ from the database
    kept_theirs: list[str] = field(default_factory=list)  # fields others changed that the person left alone
    conflicts: list[dict] = field(default_factory=list)  # [{name, label, mine, theirs}]
    unchosen: list[str] = field(default_factory=list)  # conflicts sent back without a choice

    @property
    def nothing_changed(self):
        return not self.changed and not self.conflicts and not self.unchosen


def merge(make_form, submitted: QueryDict, stale: bool) -> Merge:
    """Merge a submitted edit three ways.

    ``make_form(data=None)`` builds the form for the record as it is now; ``stale`` says whether the record
    changed since the form was opened (its version moved on).
    """
    current_form = make_form()
    theirs_data = opened_data(current_form)
    original = read_original(submitted.get(ORIGINAL_FIELD, ""))
    base_form = make_form(data=as_query_dict(original)) if original is not None else None
    mine_form = make_form(data=submitted)
    theirs_form = make_form(data=as_query_dict(theirs_data))
    asked = set(submitted.get(CONFLICTS_FIELD, "").split(",")) - {""}

    merged = submitted.copy()
    result = Merge(data=merged)
    for name in theirs_data:
        mine_value = comparable(mine_form[name])
        theirs_value = comparable(theirs_form[name])
        base_value = comparable(base_form[name]) if base_form is not None and name in original else _UNKNOWN
        if base_value is _UNKNOWN:
            # The form came without the values it was opened with. On a record nobody else touched, every
            # difference is the person's; on a changed record, every difference has to be their choice.
            differs = mine_value != theirs_value
            i_changed, they_changed = differs, differs and stale
        else:
            i_changed, they_changed = mine_value != base_value, theirs_value != base_value
        choice = submitted.get(CHOICE_PREFIX + name)
        conflict = {
            "name": name,
            "label": mine_form[name].label,
            "unchosen": False,
            "mine": shown(mine_form[name]),
            "theirs": shown(theirs_form[name]),
        }
        if name in asked and mine_value != theirs_value:
            if choice == THEIRS:
                i_changed = False
            elif choice == MINE:
                i_changed = True
            else:
                result.unchosen.append(name)
                result.conflicts.append({**conflict, "unchosen": True})
                continue
        elif i_changed and they_changed and mine_value != theirs_value:
            result.conflicts.append(conflict)
            continue
        if not i_changed:
            for key in _keys_of(mine_form[name]):
                merged.pop(key, None)
            for key, values in theirs_data[name].items():
                merged.setlist(key, values)
            if they_changed:
                result.kept_theirs.append(str(mine_form[name].label))
        elif mine_value != theirs_value:
            result.changed.append(name)
    return result


def conflict_choices(names) -> str:
    return ",".join(names)
