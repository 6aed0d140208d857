"""The commercial panels of the customer 360 view (receivables, contracts and quotes) and who may read the audit
history of quotes and contracts; also loads their search kinds and back office. Imported by SalesConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.audit_access import register as register_access
from guanxi.customers.panels import Panel, register

# contracts_search registers the search kinds "quotes" and "contracts"; products_admin the back office.
from guanxi.sales import contracts, contracts_search, products_admin, quotes, receivables  # noqa: F401
from guanxi.sales.models import Contract, Quote

PANEL_ROWS = 10
# The panels read values() rows (fewer than a model instance each); labels from the choices, once.
CONTRACT_STATUS = dict(Contract.Status.choices)
QUOTE_STATUS = dict(Quote.Status.choices)
QUOTE_APPROVAL = dict(Quote.Approval.choices)


def receivables_panel(*, user, customer) -> dict:
    return receivables.customer_receivables(user=user, customer=customer)


def contracts_panel(*, user, customer) -> list[dict]:
    rows = contracts.customer_contracts(user=user, customer=customer).order_by("-created_at", "-id")
    fields = ("id", "number", "title", "status", "start_date", "end_date", "value")
    return [
        {
            **row,
            "status_label": str(CONTRACT_STATUS[row["status"]]),
            "start_date": row["start_date"].isoformat(),
            "end_date": row["end_date"].isoformat(),
            "value": str(row["value"]),
        }
        for row in rows.values(*fields)[:PANEL_ROWS]
    ]


def quotes_panel(*, user, customer) -> list[dict]:
    rows = quotes.customer_quotes(user=user, customer=customer).order_by("-created_at", "-id")
    fields = ("id", "number", "revision", "title", "status", "approval", "total")
    return [
        {
            **{key: row[key] for key in fields if key not in ("approval", "total")},
            "status_label": str(QUOTE_STATUS[row["status"]]),
            "approval_label": str(QUOTE_APPROVAL[row["approval"]]),
            "total": str(row["total"]),
        }
        for row in rows.values(*fields)[:PANEL_ROWS]
    ]


def quote_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and quotes.quote_queryset(user=user).filter(pk=int(object_id)).exists()


register(Panel("receivables", _("Receivables"), receivables_panel, "sales/receivables_panel.html", order=60))
register(Panel("contracts", _("Contracts"), contracts_panel, "sales/contracts_panel.html", order=61))
register(Panel("quotes", _("Quotes"), quotes_panel, "sales/quotes_panel.html", order=62))
register_access("sales.quote", quote_visible)
register_access("sales.contract", contracts.contract_visible)
