"""API tokens on the portal's pages: a person's own ("Your API tokens"), and any user's for Administrators."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from nhs_joint.permissions import can_manage_users

from .models import ApiToken, User


class YourTokensView(View):
    """The tokens of the signed-in person, each with a button that revokes it."""

    def get(self, request):
        return render(request, "accounts/tokens.jinja", {
            "page_title": "Your API tokens",
            "tokens": ApiToken.objects.filter(user=request.user),
            "subject": None,
        })


class RevokeYourTokenView(View):
    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        token.delete()
        messages.success(request, f"The token “{token.name}” is revoked: it no longer signs anyone in.")
        return redirect("your-tokens")


class RevokeUserTokenView(View):
    """An Administrator revokes one token of a user (listed on the user's page), or all of them."""

    def post(self, request, pk, token_pk=None):
        can_manage_users(request.user).enforce()
        user = get_object_or_404(User, pk=pk)
        tokens = ApiToken.objects.filter(user=user)
        if token_pk is not None:
            tokens = tokens.filter(pk=token_pk)
            get_object_or_404(tokens)
        count, _ = tokens.delete()
        messages.success(request, f"{count} API token{'s' if count != 1 else ''} of {user.username} revoked.")
        return redirect("user-detail", user.pk)
