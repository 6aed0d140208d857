"""The commercial panels of the customer 360 view (receivables, contracts and quotes) and who may read the audit
history of quotes and contracts; also loads their search kinds and back office. Imported by SalesConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.audit_access import register as register_access
from guanxi.customers.panels import Panel, register

# contracts_search registers the search kinds "quotes" and "contracts"; products_admin the back office.
from guanxi.sales import contracts, contracts_search, products_admin, quotes, receivables  # noqa: F401

PANEL_ROWS = 10


def receivables_panel(*, user, customer) -> dict:
    return receivables.customer_receivables(user=user, customer_id=customer.pk)


def contracts_panel(*, user, customer) -> list[dict]:
    rows = contracts.contract_queryset(user=user).filter(customer=customer).order_by("-created_at", "-id")
    return [
        {
            "id": c.id,
            "number": c.number,
            "title": c.title,
            "status": c.status,
            "status_label": str(c.get_status_display()),
            "start_date": c.start_date.isoformat(),
            "end_date": c.end_date.isoformat(),
            "value": str(c.value),
        }
        for c in rows[:PANEL_ROWS]
    ]


def quotes_panel(*, user, customer) -> list[dict]:
    rows = quotes.quote_queryset(user=user).filter(customer=customer).order_by("-created_at", "-id")
    return [
        {
            "id": q.id,
            "number": q.number,
            "revision": q.revision,
            "title": q.title,
            "status": q.status,
            "status_label": str(q.get_status_display()),
            "approval_label": str(q.get_approval_display()),
            "total": str(q.total),
        }
        for q in rows[:PANEL_ROWS]
    ]


def quote_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and quotes.quote_queryset(user=user).filter(pk=int(object_id)).exists()


register(Panel("receivables", _("Receivables"), receivables_panel, "sales/receivables_panel.html", order=60))
register(Panel("contracts", _("Contracts"), contracts_panel, "sales/contracts_panel.html", order=61))
register(Panel("quotes", _("Quotes"), quotes_panel, "sales/quotes_panel.html", order=62))
register_access("sales.quote", quote_visible)
register_access("sales.contract", contracts.contract_visible)
