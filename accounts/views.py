from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.jinja"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_title="Sign in", form_has_errors=bool(context["form"].errors))
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
