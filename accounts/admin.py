from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApiToken, User


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by the API only: here they are seen and revoked (deleted), never made or read back."""

    list_display = ["name", "user", "prefix", "created", "last_used", "expires"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    readonly_fields = ["user", "name", "prefix", "created", "last_used", "expires"]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
