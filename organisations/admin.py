from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import NationalBody, Organisation, StatutoryDuty


class StatutoryDutyInline(admin.TabularInline):
    model = StatutoryDuty
    extra = 0


@admin.register(NationalBody)
class NationalBodyAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "ods_code"]
    search_fields = ["code", "name"]
    inlines = [StatutoryDutyInline]


@admin.register(StatutoryDuty)
class StatutoryDutyAdmin(SimpleHistoryAdmin):
    list_display = ["title", "body", "legal_basis"]
    list_filter = ["body"]
    list_select_related = ["body"]
    search_fields = ["title", "legal_basis", "summary"]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["ods_code", "name", "kind", "region", "local_system", "opened", "closed"]
    list_filter = ["kind", "region", ("closed", admin.EmptyFieldListFilter)]
    list_select_related = ["region", "local_system"]
    search_fields = ["ods_code", "name", "postcode"]
    autocomplete_fields = ["local_system"]
