from django.contrib import admin

from guanxi.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Back office view of import jobs (read only: jobs change through their services)."""

    list_display = ["id", "kind", "original_name", "state", "total_rows", "invalid_rows", "created_by", "created_at"]
    list_filter = ["kind", "state"]
    search_fields = ["original_name", "created_by__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
