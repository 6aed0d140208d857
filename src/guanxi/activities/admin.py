"""Back-office views of activities and phone calls: read-only, because every change goes through the services
(validation, scope, versions, audit)."""

from django.contrib import admin

from guanxi.activities.models import Activity, PhoneCall


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "status", "customer", "owner", "happened_at", "call_result"]
    list_filter = ["kind", "status", "call_result"]
    search_fields = ["subject", "call_id"]
    list_select_related = ["customer", "owner"]
    raw_id_fields = ["customer", "owner", "org_unit", "follow_up_of", "created_by"]
    show_full_result_count = False  # no COUNT(*) over millions of rows


@admin.register(PhoneCall)
class PhoneCallAdmin(ReadOnlyAdmin):
    list_display = ["call_id", "direction", "state", "number", "agent", "customer", "rang_at", "ended_at"]
    list_filter = ["direction", "state"]
    search_fields = ["call_id", "number"]
    list_select_related = ["agent", "customer"]
    raw_id_fields = ["agent", "customer", "contact", "activity"]
