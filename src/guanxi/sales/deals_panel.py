"""What the pipeline adds to other apps' registries: the "deals" panel of the customer 360 view and the search kinds
"leads" and "opportunities". Both go through the scoped selectors; the searches use the bigram indexes of
core.textsearch (a frequent word stops at `limit` candidates instead of sorting every match)."""

from functools import cache

from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.core.masking import phone_for
from guanxi.core.names import full_name
from guanxi.core.textsearch import substring_matches
from guanxi.customers.panels import Panel, register
from guanxi.customers.selectors import customer_queryset
from guanxi.customers.validators import normalize_mobile
from guanxi.sales.deals_selectors import customer_deals, opportunity_queryset
from guanxi.sales.leads_selectors import lead_queryset
from guanxi.sales.models import Lead, Opportunity, Pipeline, Stage

PANEL_LIMIT = 20
# Customers whose name matches that a deal search looks at (their deals in scope are then one indexed IN).
CUSTOMER_CANDIDATES = 100


def deals_panel(*, user, customer) -> dict:
    """The customer's deals the user may see: open ones first, with stage, amount and weighted amount.

    Rows from values() with the pipeline's, stage's and owner's columns joined in (customer_deals: the deal scope
    without the sensitive-customers subquery, settled by the customer's flag): deal, stage, pipeline and owner
    instances per row cost more Python than the rest of the panel."""
    rows = customer_deals(user=user, customer=customer, base=_panel_rows())[:PANEL_LIMIT]
    detail_url = search.detail_urls("sales:deal_detail")
    return {
        "deals": [
            {
                "id": row["id"],
                "name": row["name"],
                "pipeline": Pipeline.label_of(row["pipeline__name"], row["pipeline__name_en"]),
                "stage": Stage.label_of(row["stage__name"], row["stage__name_en"]),
                "status": row["status"],
                "status_label": str(DEAL_STATUS.get(row["status"], row["status"])),
                "amount": str(row["amount"]),
                "weighted_amount": str(row["weighted_amount"]),
                "probability": row["probability"],
                "expected_close": row["expected_close"].isoformat(),
                "owner": full_name(row["owner__username"], row["owner__first_name"], row["owner__last_name"]),
                "url": detail_url(row["id"]),
            }
            for row in rows
        ],
        "create_url": reverse("sales:deal_create") + f"?customer={customer.pk}",
    }


DEAL_COLUMNS = (
    "id",
    "name",
    "status",
    "amount",
    "weighted_amount",
    "probability",
    "expected_close",
    "pipeline__name",
    "pipeline__name_en",
    "stage__name",
    "stage__name_en",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)
DEAL_STATUS = dict(Opportunity.Status.choices)


@cache
def _panel_rows() -> QuerySet:
    """The panel's rows in its order — open deals first, then the latest changed — built once: resolving the columns
    and their three joins was a third of the panel's Python. Callers only chain on it (filter and slice clone it)."""
    return Opportunity.objects.order_by(F("closed_at").desc(nulls_first=True), "-updated_at", "-id").values(
        *DEAL_COLUMNS
    )


def search_leads(*, user, q: str, limit: int) -> list[search.SearchHit]:
    """Leads whose company/person name or contact name contains every word (bigram indexes, sales migration 0005),
    and a whole mobile number exactly (sales_lead_mobile_idx); mobile first, then newest first."""
    query = search.parse(q)
    visible = lead_queryset(user=user).order_by().values(*LEAD_HIT_FIELDS)
    exact = list(visible.filter(mobile=normalize_mobile(query.full_phone))[:limit]) if query.full_phone else []
    terms = list(query.terms)
    by_name = substring_matches(visible, "company_name", terms, limit)
    by_contact = substring_matches(visible, "contact_name", terms, limit)
    leads = _first_each(exact, _newest(by_name + by_contact, "created_at"), limit)
    url = search.detail_urls("sales:lead_detail")
    return [
        search.SearchHit(
            id=lead["id"],
            title=lead["company_name"],
            subtitle=" · ".join(
                filter(
                    None,
                    [
                        str(LEAD_STATUS.get(lead["status"], lead["status"])),
                        lead["contact_name"],
                        phone_for(user, lead["mobile"]),
                    ],
                )
            ),
            url=url(lead["id"]),
            match="mobile" if query.full_phone and lead["mobile"] == query.full_phone else "name",
        )
        for lead in leads
    ]


def search_opportunities(*, user, q: str, limit: int) -> list[search.SearchHit]:
    """Deals whose name contains every word (bigram index, sales migration 0005), then deals of customers whose name
    does (the customers' bigram index, among the customers the user may see); newest first within each."""
    query = search.parse(q)
    terms = list(query.terms)
    visible = opportunity_queryset(user=user).order_by().values(*DEAL_HIT_FIELDS)
    by_name = substring_matches(visible, "name", terms, limit)
    their_customers = customer_queryset(user=user).order_by().values("id")
    customers = substring_matches(their_customers, "name", terms, CUSTOMER_CANDIDATES)
    by_customer = list(visible.filter(customer__in=[c["id"] for c in customers])[:limit]) if customers else []
    deals = _first_each(_newest(by_name, "updated_at"), _newest(by_customer, "updated_at"), limit)
    url = search.detail_urls("sales:deal_detail")
    return [
        search.SearchHit(
            id=deal["id"],
            title=deal["name"],
            subtitle=" · ".join(
                [
                    deal["customer__name"],
                    Stage.label_of(deal["stage__name"], deal["stage__name_en"]),
                    f"¥{deal['amount']:,.2f}",
                ]
            ),
            url=url(deal["id"]),
        )
        for deal in deals
    ]


# What the hits show and are ranked by, read as values(): lead and deal instances with their customer and stage, and
# compiling all of their columns, were most of these kinds' Python time.
LEAD_HIT_FIELDS = ("id", "company_name", "contact_name", "mobile", "status", "created_at")
LEAD_STATUS = dict(Lead.Status.choices)
DEAL_HIT_FIELDS = ("id", "name", "amount", "updated_at", "customer__name", "stage__name", "stage__name_en")


def _newest(rows: list[dict], field: str) -> list[dict]:
    return sorted(rows, key=lambda row: (row[field], row["id"]), reverse=True)


def _first_each(first: list[dict], then: list[dict], limit: int) -> list[dict]:
    """`first`, then the rows of `then` not already there, at most `limit` in all."""
    seen: set[int] = set()
    rows = []
    for row in (*first, *then):
        if row["id"] not in seen:
            seen.add(row["id"])
            rows.append(row)
    return rows[:limit]


register(Panel("deals", _("Deals"), deals_panel, "sales/deal_panel.html", order=40))
search.register(search.SearchKind("leads", pgettext_lazy("search kind", "Leads"), search_leads, order=40))
search.register(
    search.SearchKind("opportunities", pgettext_lazy("search kind", "Opportunities"), search_opportunities, order=41)
)
