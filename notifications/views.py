"""The notifications' pages: the list, the email preference (also by a signed link), and the watch panel."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from nhs_joint import conditional, permissions, words
from nhs_joint.forms import Form
from nhs_joint.prefetch import cached_query

from . import services
from .models import Notification, Preference

PAGE_SIZE = 50


def account_item(request):
    """The header's "Notifications" entry, with the number unread."""
    # Read with the page's version when the page has one (nhs_joint/conditional.py): no second query.
    count = conditional.person_part(services.unread_version, request.user)
    if count is None:
        count = services.unread_count(request.user)
    return {"text": f"Notifications ({count} unread)" if count else "Notifications", "href": reverse("notifications")}


def _watch_target(request, record):
    if not request.user.is_authenticated:
        return None
    target = services.target_of(record)
    return None if target is None or getattr(target, "pk", None) is None else target


def watch_reads(request, record):
    """What the Watch button reads, for the record's page to read with its sections."""
    target = _watch_target(request, record)
    if target is None:
        return []
    content_type, object_id = services.key_of(target)
    return [cached_query(_first_active_watch, user=request.user.pk, content_type=content_type, object_id=object_id)]


def _first_active_watch(user, content_type, object_id):
    return services.active_watches(user, content_type, object_id).order_by()[:1]


def watch_panel(request, record, resource, rows=None):
    """The Watch / Stop watching button under a record's page."""
    target = _watch_target(request, record)
    if target is None:
        return ""
    watching = bool(rows[0]) if rows is not None else services.is_watching(request.user, target)
    ct = ContentType.objects.get_for_model(target)
    return mark_safe(
        render_to_string(
            "notifications/watch_panel.jinja",
            {"watching": watching, "type": f"{ct.app_label}.{ct.model}", "pk": target.pk, "next": request.path},
            request=request,
        )
    )


def _safe_next(request, fallback="/"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def record_for(type_name, pk, user):
    """The record a watch form names ("app_label.model", id), or None: also when ``user`` may not see it
    (nhs_joint.permissions.can_see), so that the answer never tells whether someone else's record exists."""
    try:
        app_label, model = str(type_name).split(".", 1)
        ct = ContentType.objects.get_by_natural_key(app_label, model)
        if ct.model_class() is None or not hasattr(ct.model_class(), "get_absolute_url"):
            return None  # only records with a page of their own are watched
        record = ct.get_object_for_this_type(pk=int(pk))
    except (ValueError, TypeError, ObjectDoesNotExist, LookupError, OverflowError):
        return None  # ObjectDoesNotExist: the content type's, or the record's own DoesNotExist
    return record if permissions.can_see(user, record) else None


class WatchToggle(View):
    http_method_names = ["post"]

    def post(self, request):
        record = record_for(request.POST.get("type"), request.POST.get("id"), request.user)
        if record is None:
            raise Http404("No such record.")
        if request.POST.get("watch") == "no":
            services.unwatch(request.user, record)
            messages.success(request, f"You have stopped watching {record}.")
        else:
            services.watch(request.user, record)
            messages.success(
                request, f"You are watching {record}. Its changes, comments and findings will be sent to you."
            )
        return HttpResponseRedirect(_safe_next(request))


@require_safe
def notification_list(request):
    mine = Notification.objects.filter(user=request.user).select_related("actor").order_by("-created", "-pk")
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.jinja",
        {
            "page_title": "Notifications",
            "breadcrumbs": [{"text": "Home", "href": "/"}],
            "page": page,
            "notifications": list(page.object_list),
            "unread": services.unread_count(request.user),
        },
    )


class Mark(View):
    """Mark one notification (or all of them) read or unread."""

    http_method_names = ["post"]

    def post(self, request):
        read = request.POST.get("read") != "no"
        ids = None
        if request.POST.get("all") != "yes":
            try:
                ids = [int(request.POST.get("id", ""))]
            except ValueError:
                messages.error(request, "Choose a notification to mark.")
                return HttpResponseRedirect(reverse("notifications"))
        count = services.mark(request.user, ids, read=read)
        if ids is None:
            messages.success(request, f"{words.count(count, 'notification')} marked as read.")
        return HttpResponseRedirect(_safe_next(request, reverse("notifications")))


class PreferenceForm(Form):
    email = forms.ChoiceField(
        label="Emails about your notifications",
        choices=Preference.Email.choices,
        widget=forms.RadioSelect,
        help_text="Your notifications are always listed in the portal.",
    )


class Settings(View):
    def get(self, request, form=None, status=200):
        current = Preference.objects.filter(user=request.user).values_list("email", flat=True).first()
        form = form or PreferenceForm(initial={"email": current or Preference.Email.IMMEDIATE})
        return render(
            request,
            "notifications/settings.jinja",
            {
                "page_title": "Notification emails",
                "breadcrumbs": [
                    {"text": "Home", "href": "/"},
                    {"text": "Notifications", "href": reverse("notifications")},
                ],
                "form": form,
                "form_has_errors": bool(form.errors),
            },
            status=status,
        )

    def post(self, request):
        form = PreferenceForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        services.set_preference(request.user, form.cleaned_data["email"])
        messages.success(request, "Your email preference is saved.")
        return HttpResponseRedirect(reverse("notifications"))


@method_decorator(login_not_required, name="dispatch")
@method_decorator(csrf_exempt, name="dispatch")  # one-click from an email: the signed token is the proof
class EmailPreferenceLink(View):
    """An email's link: changes that person's email preference, and only that, without signing in.

    Opening the link shows a button (mail scanners open links without anyone asking); the button, or a
    mail program's one-click request (List-Unsubscribe-Post), makes the change.
    """

    def read(self, token):
        found = services.read_preference_token(token)
        if found is None:
            raise Http404("This link is not valid. Sign in and choose your notification emails in the portal.")
        return found

    def get(self, request, token):
        user, email = self.read(token)
        return render(
            request,
            "notifications/email_link.jinja",
            {"page_title": "Notification emails", "choice": Preference.Email(email).label, "done": False},
        )

    def post(self, request, token):
        user, email = self.read(token)
        services.set_preference(user, email)
        return render(
            request,
            "notifications/email_link.jinja",
            {"page_title": "Notification emails", "choice": Preference.Email(email).label, "done": True},
        )


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/mark/", Mark.as_view(), name="notifications-mark"),
    path("notifications/settings/", Settings.as_view(), name="notification-settings"),
    path("notifications/email/<str:token>/", EmailPreferenceLink.as_view(), name="notification-email-link"),
    path("watching/", WatchToggle.as_view(), name="watch-toggle"),
]
