"""Optimistic locking for edits: a form carries the version it was opened at.

The version of a record is the id of its latest history entry (every model of
the portal keeps a history), so the same mechanism serves every model, and the
changes made meanwhile can be shown from that history.
"""


def version_of(obj):
    """The version token of ``obj``: its latest history entry's id, as a string."""
    latest = obj.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return str(latest or "")


def changes_since(obj, version):
    """What others changed in ``obj`` since ``version``: a list of (who, when, field, old, new)."""
    history = obj.history.select_related("history_user").order_by("history_id")
    try:
        version = int(version)
    except (TypeError, ValueError):
        return []
    entries = list(history.filter(history_id__gte=version))
    changes = []
    for previous, entry in zip(entries, entries[1:]):
        delta = entry.diff_against(previous)
        who = entry.history_user.get_full_name() or entry.history_user.username if entry.history_user else "Someone"
        for change in delta.changes:
            changes.append(
                {
                    "who": who,
                    "when": entry.history_date,
                    "field": _label(obj, change.field),
                    "old": change.old,
                    "new": change.new,
                }
            )
    return changes


def _label(obj, field_name):
    try:
        return str(obj._meta.get_field(field_name).verbose_name).capitalize()
    except Exception:
        return field_name.replace("_", " ").capitalize()
