"""How the API knows who is asking: a session, or a token of the portal's own (accounts.models.ApiToken).

Both refuse, with a 403 that says why, a person who must first change their password: a one-time
password given by an Administrator opens the password page and nothing else, the API included.

Who an API request is, is decided once (``api_user``), by the authentication classes of the view it
reaches, before any rule of roles is applied (the partner allow-list, accounts.middleware); the view is
given the same answer, or the same refusal, without a second look-up (``DecidedOnce``).
"""

import datetime

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .models import ApiToken

PASSWORD_CHANGE_DUE = (
    "You must change your password before using the API: sign in to the portal, choose a new password, "
    "then get a new token."
)
# A token's last use is written at most this often, so that reading the API does not write each time.
LAST_USED_EVERY = datetime.timedelta(minutes=5)


def refuse_if_password_change_due(user):
    if user.must_change_password:
        raise exceptions.PermissionDenied(PASSWORD_CHANGE_DUE)


class DecidedOnce:
    """An authentication class whose answer for a request (who it is, nobody, or a refusal) is found once and
    kept with the request: the gate before the views (``api_user``) and the view itself hear the same."""

    def authenticate(self, request):
        decisions = request._request.__dict__.setdefault("_authentication_decisions", {})
        key = type(self)
        if key not in decisions:
            try:
                decisions[key] = (super().authenticate(request), None)
            except exceptions.APIException as refusal:
                decisions[key] = (None, refusal)
        decision, refusal = decisions[key]
        if refusal is not None:
            raise refusal
        return decision


def api_user(request, view_func, view_args=(), view_kwargs=None):
    """Who an API request is: the person its view's own authentication classes (Django REST framework's,
    however the Authorization header is written) find, or None for nobody.

    A request they refuse (a token not valid, a header they cannot read, a password change due) is nobody
    here; the view answers it with the same refusal. Asked by the partner allow-list before any view runs.
    """
    view_class = getattr(view_func, "cls", None)
    if view_class is not None:
        view = view_class(**getattr(view_func, "initkwargs", {}))
        view.action_map = dict(getattr(view_func, "actions", None) or {})  # a viewset's methods, as as_view sets
        view.args, view.kwargs = view_args, view_kwargs or {}
        api_request = view.initialize_request(request, *view_args, **(view_kwargs or {}))
    else:  # a page under /api/ that is not itself an API view (the documentation): the API's own classes
        api_request = Request(request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    try:
        user = api_request.user
    except exceptions.APIException:
        return None
    return user if user is not None and user.is_authenticated else None


class TokenAuthentication(DecidedOnce, authentication.TokenAuthentication):
    """``Authorization: Token <token>``: a live token of an active account (see ApiToken).

    The keyword is read as Django REST framework reads it, in any case and followed by any white space."""

    keyword = "Token"
    check_password_change = True

    def authenticate(self, request):
        result = super().authenticate(request)
        known = getattr(result[1], "known", None) if result is not None else None
        if known is not None:  # the data's versions, read with the token: the page's tag needs no query
            request._request.portal_known = known
        return result

    def authenticate_credentials(self, key):
        record = ApiToken.find(key)
        if record is None or not record.user.is_active:
            raise exceptions.AuthenticationFailed("This token is not valid: it has expired or was revoked.")
        if self.check_password_change:
            refuse_if_password_change_due(record.user)
        now = timezone.now()
        if record.last_used is None or record.last_used < now - LAST_USED_EVERY:
            ApiToken.objects.filter(pk=record.pk).update(last_used=now)
        return record.user, record


class TokenRevocationAuthentication(TokenAuthentication):
    """The token that revokes itself (DELETE /api/v1/auth/token/): allowed even while a password change is due."""

    check_password_change = False


class SessionAuthentication(DecidedOnce, authentication.SessionAuthentication):
    """The browser's session, as the portal's pages use it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_if_password_change_due(result[0])
        return result


class PortalSessionScheme(SessionScheme):
    """Documented as Django REST framework's session scheme is (drf-spectacular matches exact classes only)."""

    target_class = "accounts.authentication.SessionAuthentication"
