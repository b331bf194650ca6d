"""Parts of pages drawn once for everyone who may see them, per data version, and reused.

A region's dashboard shows the same measures, charts and lists to every member of staff who opens it:
drawing it (some 20 queries, a hundred SPC summaries and sparklines) for each person, when only the header
and a button or two differ, is most of what a crowd opening dashboards costs. ``shared`` keeps the HTML of
such a part in this process, keyed by

- the part's name and what else it depends on (the region, the window, whether the person may edit …),
  which the caller names and which must hold everything of the person the part shows;
- the version of the tables the part is drawn from (``conditional.Rendering.version_of``: read once for the
  page's ETag, before it was drawn), so that any committed change to what the part shows gives it a new key
  and a kept drawing is never stale (docs/page-versions.md);
- the day, for parts that show what is current today.

A part is kept only while a page is drawn through ``conditional.respond`` with a version covering every
table the part reads; otherwise it is drawn every time. Kept: at most ``MAX_PARTS`` drawings of at most
``MAX_BYTES`` each per web process, the least recently used forgotten first. PAGE_CACHE_SECONDS does not
turn this off: it keeps whole pages per person; a part keyed by its data's version needs no expiry.
"""

import hashlib
from collections import OrderedDict
from threading import Lock

from django.utils import timezone
from markupsafe import Markup

from . import conditional

MAX_PARTS = 256
MAX_BYTES = 2 * 1024 * 1024

_cached = OrderedDict()
_lock = Lock()


def shared(name, models, key, render_part):
    """The HTML ``render_part()`` gives for ``name`` and ``key``, drawn once per version of ``models``' tables and day."""
    return kept(name, models, key, lambda: Markup(render_part()), size=len)


def kept(name, models, key, make, size=None):
    """What ``make()`` gives for ``name`` and ``key`` (HTML, or a small list of what a part is drawn from: a
    filter's choices), made once per version of ``models``' tables and day, as ``shared`` keeps HTML; made each
    time where the page has no version covering those tables. ``size(value)``: kept only up to ``MAX_BYTES``."""
    current = conditional.rendering()
    version = current.version_of(models) if current is not None else None
    if version is None:
        return make()
    digest = hashlib.sha256(repr((name, key, version, timezone.localdate().isoformat())).encode()).hexdigest()
    with _lock:
        value = _cached.get(digest)
        if value is not None:
            _cached.move_to_end(digest)
            return value
    value = make()
    if size is None or size(value) <= MAX_BYTES:
        with _lock:
            _cached[digest] = value
            while len(_cached) > MAX_PARTS:
                _cached.popitem(last=False)
    return value


def clear():
    """Forget every kept part (tests)."""
    with _lock:
        _cached.clear()
