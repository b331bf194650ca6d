from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from nhs_joint.registry import registry

from . import sessions
from .authentication import api_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the person read together with the session (accounts/sessions.py) when the session is the
    portal's own: one query, not four, says who is asking and what the data's versions are."""

    def process_request(self, request):
        super().process_request(request)
        if isinstance(request.session, sessions.SessionStore):
            request.user = SimpleLazyObject(lambda: _user_of(request))


def _user_of(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = sessions.get_user(request)
    # Found once: the rest of the request reads the person, not a stand-in that looks every attribute up again.
    request.user = request._cached_user
    return request._cached_user


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user. The API answers for itself: 401 with a reason, not a redirect."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "cls", None) is not None:  # a Django REST framework view
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class PasswordChangeRequiredMiddleware:
    """A user given a one-time password must choose their own before doing anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith(("/static/", "/assets/", "/api/")):
                return redirect(f"{reverse('password_change')}?first=1")
        return self.get_response(request)


class PartnerAllowListMiddleware:
    """Partners (people of providers, CCGs and local systems) reach only the pages and API routes opened to
    them (``registry.partner_url_names``): everything else is refused, so a page added later is closed to
    them unless it is opened. Pages opened to them check again that the organisation is theirs.

    The API is checked here too, before any view runs, so that a viewset's own permission classes cannot
    open it: who an API request is (a session or a token, however its header is written) is asked of the
    API's own authentication classes (``accounts.authentication.api_user``), never read from the headers here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = match.view_name if match else ""
        user = getattr(request, "user", None)
        # An API view, or a page under /api/ (the documentation) that a token may also open.
        is_api = getattr(view_func, "cls", None) is not None or request.path.startswith("/api/")
        if is_api:
            try:
                user = api_user(request, view_func, view_args, view_kwargs)
            except DatabaseError:
                # The database is away: the view cannot authenticate anyone either, and answers 503 for it.
                return None
        if user is None or not user.is_authenticated or not user.is_partner:
            return None
        if name in registry.partner_url_names or name in ALWAYS_OPEN:
            return None
        if name == "home" and registry.partner_home:
            return redirect(reverse(registry.partner_home))
        if name in BROWSER_PAGES:  # under /api/, but a page: the portal's own 403 page, not JSON
            return render(
                request, "errors/403.jinja", {"page_title": "You cannot do this", "reason": PARTNER_REFUSAL}, status=403
            )
        if is_api:
            return JsonResponse({"detail": PARTNER_REFUSAL}, status=403)
        raise PermissionDenied(PARTNER_REFUSAL)


# Signing in and out, the password and one's own API tokens: a partner's own account.
ALWAYS_OPEN = {
    "login",
    "logout",
    "password_change",
    "nhs-identity-sign-in",
    "oidc-callback",
    "nhs-identity-refused",
    "your-tokens",
    "your-token-revoke",
    "api-token",
}
# Pages under /api/ that a browser opens: refused with the portal's page, not JSON.
BROWSER_PAGES = {"api-docs"}
PARTNER_REFUSAL = "Partners can see only what is asked of their own organisation and its consultations."
