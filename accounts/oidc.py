"""Sign-in through NHS identity: the OpenID Connect provider of the staff's organisation (e.g. Microsoft
Entra ID for NHSmail), with mozilla-django-oidc.

- Off unless OIDC_ENABLED: then its addresses answer 404 and the sign-in page does not mention it.
- The provider says who the person is; the portal decides what they may do. An account is matched by
  the email the provider gives (ignoring case), and only when the provider says it verified that email
  (``email_verified``), or the person is of a tenant named in OIDC_TRUSTED_EMAIL_TENANTS; its roles,
  bodies and region stay those an Administrator gave it. No account is ever created here: a person the
  portal does not know is told to ask an Administrator, and a deactivated account is refused.
- Each call to the provider waits at most OIDC_TIMEOUT seconds; a provider that does not answer (or
  answers with an error) refuses the sign-in with a page that says so.
"""

import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

REFUSAL = "nhs_identity_refusal"
log = logging.getLogger(__name__)


def enabled():
    return bool(settings.OIDC_ENABLED)


class NHSIdentityBackend(OIDCAuthenticationBackend):
    """Matches the provider's person to a portal account by email; never creates or changes one."""

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()
        if enabled():  # the settings are read only where sign-in through NHS identity is on
            super().__init__(*args, **kwargs)

    def authenticate(self, request, **kwargs):
        if not enabled() or request is None or "password" in kwargs or "username" in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as error:
            log.warning("NHS identity sign-in refused: the provider did not answer: %s", error)
            return self.refuse("unavailable", "")

    def verify_claims(self, claims, payload=None):
        """An email, and the provider's word that it is the person's: ``email_verified`` true, or a tenant
        (the ID token's ``tid``) whose email claims are trusted as they are."""
        if not claims.get("email"):
            return False
        if claims.get("email_verified") is True or str(claims.get("email_verified")).lower() == "true":
            return True
        tenant = (payload or {}).get("tid") or claims.get("tid")
        return bool(tenant) and tenant in settings.OIDC_TRUSTED_EMAIL_TENANTS

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        email = claims.get("email") or ""
        if not self.verify_claims(claims, payload):
            return self.refuse("no-email", email)
        users = list(self.UserModel.objects.filter(email__iexact=email)[:2])
        if len(users) != 1:
            # None, or two accounts with one email: neither is chosen.
            return self.refuse("unknown", email)
        if not users[0].is_active:
            return self.refuse("deactivated", email)
        return users[0]

    def refuse(self, reason, email):
        self.request.session[REFUSAL] = {"reason": reason, "email": str(email)[:254]}
        return None

    def get_user(self, user_id):
        # As the portal's password sign-in: a session of a deactivated account is no session.
        return ModelBackend.get_user(self, user_id)

    def user_can_authenticate(self, user):
        return user.is_active


@method_decorator(login_not_required, name="dispatch")
class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's sign-in page."""

    def __init__(self, *args, **kwargs):
        View.__init__(self, *args, **kwargs)

    def get(self, request):
        if not enabled():
            raise Http404
        self.OIDC_OP_AUTH_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: signs the matched account in, or says why not."""

    def get(self, request):
        if not enabled():
            raise Http404
        request.session.pop(REFUSAL, None)
        return super().get(request)

    @property
    def failure_url(self):
        return reverse("nhs-identity-refused")


@method_decorator(login_not_required, name="dispatch")
class RefusedView(View):
    """An NHS.UK page for a person the provider knows but the portal does not let in."""

    def get(self, request):
        if not enabled():
            raise Http404
        refusal = request.session.get(REFUSAL) or {"reason": "failed", "email": ""}
        return render(
            request,
            "accounts/nhs_identity_refused.jinja",
            {
                "page_title": {
                    "unknown": "You do not have an account yet",
                    "deactivated": "Your account is deactivated",
                }.get(refusal["reason"], "You could not be signed in"),
                "reason": refusal["reason"],
                "email": refusal["email"],
                "provider_name": settings.OIDC_PROVIDER_NAME,
            },
            status=403,
        )
