"""Work that a record's save does for that record alone, gathered during a bulk write and done once at its end.

A save signal that keeps something derived up to date (a record's search document written again) does its
work for the one record saved. A command that writes hundreds of records in one transaction (the
demonstration data, ``seed_demo``) would do that work hundreds of times, each time for one record. Within
``in_bulk()`` such work, asked for through ``later``, is gathered by what it does and done once for all the
records at the end of the block, before the transaction it runs in commits: what others read after the
commit is the same as without it.

Use ``in_bulk()`` inside the transaction of the writes (``with transaction.atomic(), bulk.in_bulk():``): if
the block raises, the gathered work is dropped with the rolled-back writes.
"""

import contextlib
import threading

_pending = threading.local()


@contextlib.contextmanager
def in_bulk():
    """Gathers the work asked for through ``later`` and does it once at the end (nested blocks join the outer)."""
    if getattr(_pending, "work", None) is not None:
        yield
        return
    _pending.work = {}
    try:
        yield
        work = _pending.work
    finally:
        _pending.work = None
    for (function, key), items in work.items():  # in the order first asked for
        function(key, list(items))


def later(function, key, *items):
    """``function(key, [items])`` now, or, within ``in_bulk()``, once at its end for every item gathered under
    the same function and key (each item once)."""
    work = getattr(_pending, "work", None)
    if work is None:
        function(key, list(items))
    else:
        work.setdefault((function, key), {}).update(dict.fromkeys(items))
