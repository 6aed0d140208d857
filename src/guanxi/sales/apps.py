from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.core.audit_access import register
        from guanxi.customers.transfers import register_transfer_handler
        from guanxi.sales import deals_panel, leads_selectors, telesales  # noqa: F401  (deals_panel registers itself)
        from guanxi.sales.deals_selectors import opportunity_visible

        register("sales.lead", leads_selectors.lead_visible)
        register("sales.opportunity", opportunity_visible)
        register("sales.calllist", telesales.call_list_visible)
        # Open deals, quotes and live contracts follow a customer to its new account manager.
        register_transfer_handler(import_module("guanxi.sales.transfers").follow_customer_transfer)
        # Commerce: the receivables, contracts and quotes panels of the 360 view; audit access of quotes, contracts.
        import_module("guanxi.sales.receivables_panels")
