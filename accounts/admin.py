from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import User


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "region", "is_active"]
    list_filter = ["is_active", "groups", "bodies", "region", "is_superuser"]
    list_select_related = ["region"]
    search_fields = ["username", "email", "first_name", "last_name"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("Portal membership", {"fields": ("bodies", "region", "must_change_password")}),
    )
    filter_horizontal = ["groups", "user_permissions", "bodies"]
