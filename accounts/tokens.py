"""API tokens on the portal's pages: a person's own ("Your API tokens"), and any user's for Administrators."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from nhs_joint import words
from nhs_joint.permissions import can_manage_users

from .models import ApiToken, User


class NewTokenForm(forms.Form):
    name = forms.CharField(
        label="Device or program",
        max_length=100,
        required=False,
        help_text="For example, “Laptop” or “Monthly figures script”: to tell your tokens apart.",
        error_messages={"max_length": "Enter a name of 100 characters or fewer."},
    )


class YourTokensView(View):
    """The tokens of the signed-in person, each with a button that revokes it; and a new token, shown once.

    People who sign in through NHS identity have no portal password to give the token endpoint: this
    page is where they get a token.
    """

    def get(self, request, form=None, status=200):
        return render(
            request,
            "accounts/tokens.jinja",
            {
                "page_title": "Your API tokens",
                "tokens": ApiToken.objects.filter(user=request.user),
                "form": form or NewTokenForm(),
                "form_has_errors": bool(form and form.errors),
            },
            status=status,
        )

    def post(self, request):
        form = NewTokenForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        record, token = ApiToken.issue(request.user, name=form.cleaned_data["name"])
        return render(
            request,
            "accounts/new_token.jinja",
            {
                "page_title": "Your new API token",
                "record": record,
                "token": token,
            },
        )


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
        messages.success(request, f"{words.count(count, 'API token')} of {user.username} revoked.")
        return redirect("user-detail", user.pk)
