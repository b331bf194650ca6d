from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View

from nhs_joint.forms import name_the_field
from nhs_joint.words import last_signed_in

from .forms import PasswordChangeForm


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.jinja"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_title="Sign in", form_has_errors=bool(context["form"].errors))
        if settings.OIDC_ENABLED:
            next_path = context.get("next") or ""
            context["nhs_identity"] = {
                "name": settings.OIDC_PROVIDER_NAME,
                "href": reverse("nhs-identity-sign-in") + (f"?{urlencode({'next': next_path})}" if next_path else ""),
            }
        return context


class LogoutView(View):
    """Sign out: the page asks to confirm, the button signs out (a POST, so no link can sign someone out)."""

    def get(self, request):
        return render(request, "accounts/logout.jinja", {"page_title": "Sign out"})

    def post(self, request):
        logout(request)
        messages.info(request, "You have signed out.")
        return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.jinja"
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # The rules as a list of sentences (drawn as a list), not Django's ready-made HTML shown as text.
        new = form.fields["new_password1"]
        new.help_text = "Your new password must follow these rules:"
        new.help_items = password_validation.password_validators_help_texts()
        form.fields["new_password2"].help_text = "Type the new password again, to be sure it is right."
        form.fields["old_password"].help_text = "The password you signed in with."
        form.fields["new_password2"].label = "Confirm new password"
        form.error_messages = {
            **form.error_messages,
            "password_incorrect": "Your old password is not right. Enter the password you signed in with.",
            "password_mismatch": "The two new passwords are not the same. Enter the same password twice.",
        }
        name_the_field(form)
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            page_title="Change your password",
            first_time=self.request.user.must_change_password,
            form_has_errors=bool(context["form"].errors),
        )
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        messages.success(self.request, "Your password has been changed.")
        return response

    def get_success_url(self):
        return "/"


# User management for Administrators ------------------------------------------------------------

from django.http import HttpResponseRedirect  # noqa: E402
from django.shortcuts import get_object_or_404  # noqa: E402
from django.urls import path  # noqa: E402

from nhs_joint.generic import DetailConfig, FormConfig, ListConfig, PermissionConfig, Resource  # noqa: E402
from nhs_joint.permissions import can_manage_users  # noqa: E402
from nhs_joint.tables import Column  # noqa: E402

from . import filters, forms, services  # noqa: E402
from .models import User  # noqa: E402


def roles_text(user):
    return ", ".join(g.name for g in user.groups.all()) or "No role"


def user_summary(u):
    """The rows of a user's page. A Partner works for neither body and has no region of the portal's own: their
    page names the organisation or local health system they speak for instead."""
    rows = [
        ("Username", u.username),
        ("Name", u.get_full_name()),  # left out when none is recorded: the username names them
        ("Email", u.email or "No email address recorded"),
        ("Role", roles_text(u)),
    ]
    if u.is_partner:
        for label, record in (("Organisation", u.organisation), ("Local health system", u.local_system)):
            if record is not None:
                rows.append((label, {"text": f"{record.name} ({record.ods_code})", "href": record.get_absolute_url()}))
        if u.partner_of is None:
            rows.append(("Organisation", "Not linked to an organisation yet"))
    else:
        rows += [
            ("Bodies", " and ".join(b.name for b in u.bodies.all()) or "No body"),
            ("Region", str(u.region) if u.region else "No region (national)"),
        ]
    return rows + [
        ("Status", "Active" if u.is_active else "Deactivated"),
        ("Must change password at next sign-in", "Yes" if u.must_change_password else "No"),
        ("Last signed in", last_signed_in(u.last_login)),
    ]


def _user_queryset():
    return User.objects.select_related("region", "organisation", "local_system").prefetch_related("groups", "bodies")


class OneTimePasswordView(View):
    def dispatch(self, request, *args, **kwargs):
        can_manage_users(request.user).enforce()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        return render(
            request,
            "accounts/confirm.jinja",
            {
                "page_title": f"Set a one-time password for {user.username}",
                "subject": user,
                "text": "They will sign in with it once and must then choose their own. Their current password "
                "stops working now.",
                "button_text": "Set a one-time password",
                "breadcrumbs": users.breadcrumbs(user),
            },
        )

    def post(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        password = services.set_one_time_password(user, by=request.user)
        return render(
            request,
            "accounts/one_time_password.jinja",
            {
                "page_title": f"One-time password for {user.username}",
                "subject": user,
                "password": password,
                "breadcrumbs": users.breadcrumbs(user),
            },
        )


class ActivationView(View):
    active = False

    def dispatch(self, request, *args, **kwargs):
        can_manage_users(request.user).enforce()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        verb = "Reactivate" if self.active else "Deactivate"
        text = (
            "They will be able to sign in again."
            if self.active
            else "They will no longer be able to sign in. Their name stays in the history of what they changed."
        )
        return render(
            request,
            "accounts/confirm.jinja",
            {
                "page_title": f"{verb} {user.username}",
                "subject": user,
                "text": text,
                "button_text": verb,
                "warning": not self.active,
                "breadcrumbs": users.breadcrumbs(user),
            },
        )

    def post(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        if user == request.user and not self.active:
            messages.error(request, "You cannot deactivate your own account.")
            return HttpResponseRedirect(user_url(user))
        try:
            services.set_active(user, self.active, by=request.user)
        except services.LastAdministrator as refusal:
            messages.error(request, str(refusal))
            return HttpResponseRedirect(user_url(user))
        messages.success(request, f"{user.username} has been {'reactivated' if self.active else 'deactivated'}.")
        return HttpResponseRedirect(user_url(user))


def user_url(user):
    from django.urls import reverse

    return reverse("user-detail", args=[user.pk])


users = Resource(
    model=User,
    name="user",
    prefix="users",
    list=ListConfig(
        queryset=_user_queryset,
        filterset=filters.UserFilterSet,
        columns=[
            Column("username", order="username", link=user_url),
            Column("name", getter=lambda u: u.get_full_name(), order="last_name"),
            Column("email", order="email"),
            Column("role", getter=roles_text),
            Column("bodies", getter=lambda u: ", ".join(b.code for b in u.bodies.all())),
            Column("region", order="region"),
            Column("is_active", "Active", order="is_active"),
        ],
        intro="Accounts of the portal. Users are never deleted: deactivate them, and their history keeps their name.",
    ),
    detail=DetailConfig(
        template="accounts/user_detail.jinja",
        summary=user_summary,
    ),
    form=FormConfig(
        form_class=forms.UserForm,
    ),
    permissions=PermissionConfig(
        view=can_manage_users,
        change=lambda user, obj: can_manage_users(user),
        create=can_manage_users,
        deletable=False,
        kept_because="deactivate them, and their history keeps their name.",
    ),
    extra_urls=lambda resource: [
        path("users/<int:pk>/one-time-password/", OneTimePasswordView.as_view(), name="user-password"),
        path("users/<int:pk>/deactivate/", ActivationView.as_view(active=False), name="user-deactivate"),
        path("users/<int:pk>/reactivate/", ActivationView.as_view(active=True), name="user-reactivate"),
    ],
)
