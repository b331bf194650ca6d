from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Finding, FindingDecision, ReportRun


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "created", "finished", "requested_by"]
    list_filter = ["kind", "status"]
    search_fields = ["error", "worker"]
    readonly_fields = [f.name for f in ReportRun._meta.fields]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["pk", "run", "rule", "severity", "region", "score", "suppressed"]
    list_filter = ["rule", "severity", "suppressed", "region"]
    search_fields = ["message", "fingerprint"]
    readonly_fields = [f.name for f in Finding._meta.fields]


@admin.register(FindingDecision)
class FindingDecisionAdmin(SimpleHistoryAdmin):
    list_display = ["pk", "rule", "decision", "decided_by", "decided_at"]
    list_filter = ["rule", "decision"]
    search_fields = ["reason", "fingerprint"]
