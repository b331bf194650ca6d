from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BoardApproval, Programme, RegionalDelivery, Workstream


class ProgrammeAdminForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [f.name for f in Programme._meta.get_fields() if f.concrete and f.editable and not f.auto_created]

    def clean(self):
        cleaned = super().clean()
        # Programme.clean() checks accountability against the bodies about to be saved.
        self.instance.bodies_to_save = list(cleaned.get("bodies") or [])
        return cleaned


class BoardApprovalInline(admin.TabularInline):
    model = BoardApproval
    extra = 0


class RegionalDeliveryInline(admin.TabularInline):
    model = RegionalDelivery
    extra = 0
    autocomplete_fields = ["lead"]


class WorkstreamInline(admin.StackedInline):
    model = Workstream
    extra = 0
    filter_horizontal = ["regions"]


@admin.register(Programme)
class ProgrammeAdmin(SimpleHistoryAdmin):
    form = ProgrammeAdminForm
    list_display = ["title", "slug", "theme", "integration_stage", "accountable_body", "status", "start_date"]
    list_filter = ["status", "integration_stage", "accountable_body", "bodies", "theme"]
    list_select_related = ["accountable_body"]
    search_fields = ["title", "slug", "summary", "description"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["bodies"]
    autocomplete_fields = ["senior_responsible_owner"]
    readonly_fields = ["version"]
    inlines = [BoardApprovalInline, RegionalDeliveryInline, WorkstreamInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("bodies")


@admin.register(BoardApproval)
class BoardApprovalAdmin(SimpleHistoryAdmin):
    list_display = ["programme", "body", "decision", "date", "minute_reference"]
    list_filter = ["decision", "body"]
    list_select_related = ["programme", "body"]
    search_fields = ["programme__title", "minute_reference"]
    autocomplete_fields = ["programme"]


@admin.register(RegionalDelivery)
class RegionalDeliveryAdmin(SimpleHistoryAdmin):
    list_display = ["programme", "region", "rag", "lead", "updated"]
    list_filter = ["rag", "region"]
    list_select_related = ["programme", "region", "lead"]
    search_fields = ["programme__title", "note"]
    autocomplete_fields = ["programme", "lead"]


@admin.register(Workstream)
class WorkstreamAdmin(SimpleHistoryAdmin):
    list_display = ["title", "programme", "body", "start_date", "end_date"]
    list_filter = ["body", "regions", "programme__theme"]
    list_select_related = ["programme", "body"]
    search_fields = ["title", "description", "programme__title"]
    autocomplete_fields = ["programme"]
    filter_horizontal = ["regions"]
