from django.contrib import admin

from guanxi.customers.models import Category, Contact, Customer, Region, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "industry", "parent"]
    list_filter = ["industry"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Customers and contacts change only through services (validation, scope, versions, audit)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["number", "name", "kind", "grade", "stage", "owner", "archived_at"]
    list_filter = ["kind", "grade", "stage", "vip"]
    search_fields = ["number", "name", "credit_code"]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["name", "customer", "role", "mobile", "primary"]
    search_fields = ["name", "mobile"]
    raw_id_fields = ["customer"]
    show_full_result_count = False
