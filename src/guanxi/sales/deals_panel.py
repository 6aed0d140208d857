"""What the pipeline adds to other apps' registries: the "deals" panel of the customer 360 view and the search kinds
"leads" and "opportunities". Both go through the scoped selectors."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.core.masking import phone_for
from guanxi.customers.panels import Panel, register
from guanxi.customers.validators import normalize_mobile
from guanxi.sales.deals_selectors import deals_of_customer, opportunity_queryset
from guanxi.sales.leads_selectors import lead_queryset

PANEL_LIMIT = 20


def deals_panel(*, user, customer) -> dict:
    """The customer's deals the user may see: open ones first, with stage, amount and weighted amount."""
    deals = deals_of_customer(user=user, customer_id=customer.pk, limit=PANEL_LIMIT)
    return {
        "deals": [
            {
                "id": deal.pk,
                "name": deal.name,
                "pipeline": deal.pipeline.label,
                "stage": deal.stage.label,
                "status": deal.status,
                "status_label": str(deal.get_status_display()),
                "amount": str(deal.amount),
                "weighted_amount": str(deal.weighted_amount),
                "probability": deal.probability,
                "expected_close": deal.expected_close.isoformat(),
                "owner": (deal.owner.get_full_name() or deal.owner.username),
                "url": reverse("sales:deal_detail", args=[deal.pk]),
            }
            for deal in deals
        ],
        "create_url": reverse("sales:deal_create") + f"?customer={customer.pk}",
    }


def search_leads(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    condition = Q()
    for term in query.terms:
        condition &= Q(company_name__icontains=term) | Q(contact_name__icontains=term)
    if query.full_phone:
        condition |= Q(mobile=normalize_mobile(query.full_phone))
    leads = lead_queryset(user=user).filter(condition).order_by("-created_at", "-id")[:limit]
    return [
        search.SearchHit(
            id=lead.pk,
            title=lead.company_name,
            subtitle=" · ".join(
                filter(None, [str(lead.get_status_display()), lead.contact_name, phone_for(user, lead.mobile)])
            ),
            url=reverse("sales:lead_detail", args=[lead.pk]),
            match="mobile" if query.full_phone and lead.mobile == query.full_phone else "name",
        )
        for lead in leads
    ]


def search_opportunities(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    condition = Q()
    for term in query.terms:
        condition &= Q(name__icontains=term) | Q(customer__name__icontains=term)
    deals = (
        opportunity_queryset(user=user)
        .filter(condition)
        .select_related("customer", "stage")
        .order_by("-updated_at", "-id")[:limit]
    )
    return [
        search.SearchHit(
            id=deal.pk,
            title=deal.name,
            subtitle=" · ".join([deal.customer.name, deal.stage.label, f"¥{deal.amount:,.2f}"]),
            url=reverse("sales:deal_detail", args=[deal.pk]),
        )
        for deal in deals
    ]


register(Panel("deals", _("Deals"), deals_panel, "sales/deal_panel.html", order=40))
search.register(search.SearchKind("leads", pgettext_lazy("search kind", "Leads"), search_leads, order=40))
search.register(
    search.SearchKind("opportunities", pgettext_lazy("search kind", "Opportunities"), search_opportunities, order=41)
)
