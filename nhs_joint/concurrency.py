"""Optimistic locking for edits: a form carries the version it was opened at.

The version of a record is the id of its latest history entry (every model of
the portal keeps a history), so the same mechanism serves every model, and the
changes made meanwhile can be shown from that history (nhs_joint.history.entries_since).
"""


def version_of(obj):
    """The version token of ``obj``: its latest history entry's id, as a string."""
    latest = obj.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return str(latest or "")
