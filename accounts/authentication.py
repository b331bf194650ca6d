"""How the API knows who is asking: a session, or a token of the portal's own (accounts.models.ApiToken).

Both refuse, with a 403 that says why, a person who must first change their password: a one-time
password given by an Administrator opens the password page and nothing else, the API included.
"""

import datetime

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

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


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <token>``: a live token of an active account (see ApiToken)."""

    keyword = "Token"
    check_password_change = True

    def authenticate(self, request):
        # The partner allow-list (accounts.middleware) may have looked this token up already.
        self._found = getattr(getattr(request, "_request", request), "_api_token_found", None)
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        found = getattr(self, "_found", None)
        record = found[1] if found is not None and found[0] == key else ApiToken.find(key)
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


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser's session, as the portal's pages use it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_if_password_change_due(result[0])
        return result


class PortalSessionScheme(SessionScheme):
    """Documented as Django REST framework's session scheme is (drf-spectacular matches exact classes only)."""

    target_class = "accounts.authentication.SessionAuthentication"
