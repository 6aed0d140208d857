"""Back office for the commercial models: the catalogue, price lists and contract templates are maintained here;
quotes, contracts and payments are shown read-only (they change through the services, which audit and version)."""

from django.contrib import admin

from guanxi.sales.models import (
    Contract,
    ContractTemplate,
    Instalment,
    Payment,
    PriceList,
    PriceListItem,
    Product,
    Quote,
    QuoteLine,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "unit", "tax_rate", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    exclude = ["version"]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 1
    autocomplete_fields = ["product"]


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "valid_from", "valid_to", "active"]
    list_filter = ["active", "category"]
    inlines = [PriceListItemInline]
    exclude = ["version"]


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    exclude = ["version"]


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    can_delete = False
    readonly_fields = ["product", "quantity", "unit_price", "discount_percent", "tax_rate", "total"]
    fields = readonly_fields


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "revision", "title", "customer", "owner", "status", "approval", "total"]
    list_filter = ["status", "approval"]
    search_fields = ["number", "title"]
    list_select_related = ["customer", "owner"]
    inlines = [QuoteLineInline]


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "customer", "owner", "status", "start_date", "end_date", "value"]
    list_filter = ["status"]
    search_fields = ["number", "title"]
    list_select_related = ["customer", "owner"]


@admin.register(Instalment)
class InstalmentAdmin(ReadOnlyAdmin):
    list_display = ["contract", "sequence", "due_date", "amount", "paid_amount"]
    list_select_related = ["contract"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["contract", "instalment", "amount", "paid_on", "method", "reference"]
    list_select_related = ["contract", "instalment"]
