"""URL resolvers of the portal's own."""

import copy
import re

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern
from django.utils.functional import cached_property


class FirstSegmentResolver(URLResolver):
    """A resolver that tries only the patterns an address's first segment can match.

    The router's patterns (some 170: a list, a record, its actions, each with a format suffix, for every kind of
    record) are regular expressions tried in order until one matches: an API list's address was tried against some
    80 of them on every request. Each pattern that starts with a literal segment (``^programmes/``,
    ``^programmes\\.``) can only match an address whose first segment (up to the first "/" or ".") is that
    literal; the others (the API's root) are tried for every address. So an address is tried, in the same order,
    against the patterns of its first segment and those others only: the same match, found sooner."""

    @cached_property
    def _by_segment(self):
        segments = [(pattern, _first_segment(pattern)) for pattern in self.url_patterns]
        resolvers = {}
        for segment in {segment for _pattern, segment in segments}:
            resolver = copy.copy(self)
            resolver.__dict__["url_patterns"] = [p for p, s in segments if s is None or s == segment]
            resolvers[segment] = resolver
        return resolvers

    def resolve(self, path):
        match = self.pattern.match(str(path))
        if match:
            segment = _SEGMENT_END.split(match[0], maxsplit=1)[0]
            by_segment = self._by_segment
            resolver = by_segment.get(segment, by_segment.get(None))
            if resolver is not None:
                return URLResolver.resolve(resolver, path)
        return super().resolve(path)


_SEGMENT_END = re.compile(r"[/.]")
_LITERAL = re.compile(r"\^([A-Za-z0-9_-]+)(/|\\\.)")


def _first_segment(pattern):
    """The literal first segment of a pattern's regular expression ("programmes" of ``^programmes/$`` or
    ``^programmes\\.(?P<format>…)``), or None when it does not start with one."""
    regex = getattr(pattern.pattern, "_regex", None)
    found = _LITERAL.match(regex) if isinstance(regex, str) else None
    return found[1] if found else None


def keyed_by_first_segment(route, view):
    """``path(route, include(...))`` resolved by its patterns' first segments (``FirstSegmentResolver``)."""
    urlconf_module, app_name, namespace = view
    return FirstSegmentResolver(
        RoutePattern(route, is_endpoint=False), urlconf_module, app_name=app_name, namespace=namespace
    )
