from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from guanxi.core.audit_access import register
        from guanxi.customers import overview, search, selectors  # noqa: F401  (overview/search register themselves)

        register("customers.customer", selectors.customer_visible)
        register("customers.contact", selectors.contact_visible)
