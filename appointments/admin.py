from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from .models import Appointment, AppointmentShare, Person, check_shares


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["name", "email", "user"]
    search_fields = ["name", "email"]
    raw_id_fields = ["user"]


class ShareInlineFormSet(forms.BaseInlineFormSet):
    """Shares are validated together: each body once, totalling 100%."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        shares = [
            (f.cleaned_data.get("body"), f.cleaned_data.get("fte_percent"))
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        message = check_shares(shares)
        if message:
            raise ValidationError(message)


class AppointmentShareInline(admin.TabularInline):
    model = AppointmentShare
    formset = ShareInlineFormSet
    extra = 0
    min_num = 1


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    list_display = ["person", "title", "role", "region", "programme", "start_date", "end_date"]
    list_filter = ["role", "region", "shares__body"]
    list_select_related = ["person", "region", "programme"]
    search_fields = ["title", "person__name", "person__email"]
    autocomplete_fields = ["person", "programme"]
    inlines = [AppointmentShareInline]


@admin.register(AppointmentShare)
class AppointmentShareAdmin(SimpleHistoryAdmin):
    list_display = ["appointment", "body", "fte_percent"]
    list_filter = ["body"]
    list_select_related = ["appointment__person", "body"]
    search_fields = ["appointment__title", "appointment__person__name"]
