from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from guanxi.core.models import ApiToken, AuditLog, OrgUnit, Profile


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


class GuanxiUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "first_name", "email", "is_active", "is_staff"]
    list_select_related = ["profile"]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), GuanxiUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens come from POST /api/v1/auth/token, which shows the clear text once


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
