from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import LocalHealthSystem, LocalOffice, Region


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ["ods_code", "name", "short_name", "active", "effective_from", "effective_to"]
    list_filter = ["active"]
    search_fields = ["ods_code", "name", "short_name"]
    prepopulated_fields = {"slug": ["short_name"]}


@admin.register(LocalHealthSystem)
class LocalHealthSystemAdmin(SimpleHistoryAdmin):
    list_display = ["ods_code", "name", "region"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["ods_code", "name"]


@admin.register(LocalOffice)
class LocalOfficeAdmin(SimpleHistoryAdmin):
    list_display = ["ods_code", "name", "region", "opened", "closed"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["ods_code", "name"]
