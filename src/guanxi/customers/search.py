"""Search kinds of this app: customers and contacts (registered with core.search)."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core import search
from guanxi.core.masking import phone_for
from guanxi.customers.selectors import contact_queryset, customer_queryset


def search_customers(*, user, q: str, limit: int) -> list[search.SearchHit]:
    term = q.strip()
    condition = Q(name__icontains=term) | Q(number=term.upper()) | Q(credit_code=term.upper())
    rows = (
        customer_queryset(user=user)
        .filter(condition, archived_at__isnull=True)
        .select_related("region")
        .order_by("name", "id")[:limit]
    )
    return [
        search.SearchHit(
            id=c.pk,
            title=c.name,
            subtitle=" · ".join(filter(None, [c.number, c.region.name if c.region_id else ""])),
            url=reverse("customers:detail", args=[c.pk]),
        )
        for c in rows
    ]


def search_contacts(*, user, q: str, limit: int) -> list[search.SearchHit]:
    term = q.strip()
    condition = Q(name__icontains=term)
    digits = term.replace("-", "").replace(" ", "")
    if digits.isdigit() and len(digits) >= 4:
        condition |= Q(mobile__endswith=digits) | Q(mobile=digits)
    rows = contact_queryset(user=user).filter(condition).select_related("customer").order_by("name", "id")[:limit]
    return [
        search.SearchHit(
            id=c.pk,
            title=c.name,
            subtitle=" · ".join(filter(None, [c.customer.name, phone_for(user, c.mobile)])),
            url=reverse("customers:detail", args=[c.customer_id]) + "#contacts",
        )
        for c in rows
    ]


search.register(search.SearchKind("customers", _("Customers"), search_customers, order=10))
search.register(search.SearchKind("contacts", _("Contacts"), search_contacts, order=20))
