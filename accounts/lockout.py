"""What a person who is locked out after failed sign-ins is told, and when they can try again.

django-axes counts failed sign-ins per account and per address (settings: SIGN_IN_FAILURE_LIMIT,
SIGN_IN_COOLOFF_MINUTES) and calls ``lockout_response`` instead of answering the sign-in. Pages get
an NHS.UK page, the API a JSON 429; both say when the lockout ends and send Retry-After.
"""

import datetime
import math

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from nhs_joint.dates import format_date


def locked_until(request, credentials=None):
    """When the lockout that refused this request ends."""
    now = timezone.now()
    cool_off = get_cool_off(request)
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    matching = Q(ip_address=address)
    if username:
        matching |= Q(username=username)
    last = AccessAttempt.objects.filter(matching).aggregate(last=Max("attempt_time"))["last"] or now
    return max(last + cool_off, now)


def time_of_day(moment):
    """'3:15pm', or '3:15pm on 4 March' when it is not today (NHS.UK style), in the portal's time zone."""
    local = timezone.localtime(moment)
    text = f"{local.hour % 12 or 12}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"
    if local.date() != timezone.localdate():
        text += f" on {format_date(local, 'j F')}"
    return text


def message(until):
    return f"Too many failed sign-ins. Try again after {time_of_day(until)}."


def lockout_response(request, original_response=None, credentials=None):
    until = locked_until(request, credentials)
    if until.second or until.microsecond:
        # Rounded up to the minute: "after 3:15pm" is never a moment too soon.
        until = until.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    retry_after = str(max(1, math.ceil((until - timezone.now()).total_seconds())))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message(until), "retry_after": int(retry_after)}, status=429)
    else:
        response = render(
            request,
            "accounts/locked_out.jinja",
            {
                "page_title": "Too many failed sign-ins",
                "message": message(until),
                "until": time_of_day(until),
            },
            status=429,
        )
    response["Retry-After"] = retry_after
    return response


def client_address(request):
    """The address failed sign-ins are counted against.

    The web server's peer, unless SIGN_IN_PROXY_COUNT proxies stand in front (production: one): then
    the address that the nearest of them was reached from, read from the right of X-Forwarded-For,
    where a client cannot write it.
    """
    from django.conf import settings

    count = settings.SIGN_IN_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
