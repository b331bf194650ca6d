"""Writes through the API are limited per person (API_WRITE_RATE); reading is not."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import UserRateThrottle


class WriteRateThrottle(UserRateThrottle):
    """At most API_WRITE_RATE creations, changes and deletions per person (or per address when signed out).

    Counted in the cache of the web process: with several processes each counts its own share.
    Answered 429 with Retry-After and a JSON ``detail`` by Django REST framework.
    """

    scope = "writes"
    writes_only = True  # not made for a read at all (nhs_joint.api.ReadingMixin)

    def get_rate(self):
        return settings.API_WRITE_RATE or None

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
