"""Search kinds "quotes" and "contracts" (registered with core.search): by number (QT…/HT…, prefix) or by words of the
title, within the user's scope. Numbers are unique-indexed; a title scan is bounded by the scope and `limit`."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.sales.contracts import contract_queryset
from guanxi.sales.quotes import quote_queryset


def _condition(query: search.ParsedQuery, number_field: str = "number") -> tuple[Q, bool]:
    if query.compact[:2] in ("QT", "HT") and query.compact[2:].isdigit():
        return Q(**{f"{number_field}__startswith": query.compact}), True
    condition = Q()
    for term in query.terms:
        condition &= Q(title__icontains=term)
    return condition, False


def search_quotes(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    condition, by_number = _condition(query)
    rows = quote_queryset(user=user).filter(condition).select_related("customer").order_by("-created_at", "-id")
    return [
        search.SearchHit(
            id=quote.pk,
            title=f"{quote.number} v{quote.revision} {quote.title}",
            subtitle=f"{quote.customer.name} · {quote.get_status_display()} · {quote.total}",
            url=reverse("sales:quote_detail", args=[quote.pk]),
            match="number" if by_number else "title",
        )
        for quote in rows[:limit]
    ]


def search_contracts(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    condition, by_number = _condition(query)
    rows = contract_queryset(user=user).filter(condition).select_related("customer").order_by("-created_at", "-id")
    return [
        search.SearchHit(
            id=contract.pk,
            title=f"{contract.number} {contract.title}",
            subtitle=f"{contract.customer.name} · {contract.get_status_display()} · {contract.end_date:%Y-%m-%d}",
            url=reverse("sales:contract_detail", args=[contract.pk]),
            match="number" if by_number else "title",
        )
        for contract in rows[:limit]
    ]


search.register(search.SearchKind("quotes", pgettext_lazy("search kind", "Quotes"), search_quotes, order=50))
search.register(search.SearchKind("contracts", pgettext_lazy("search kind", "Contracts"), search_contracts, order=51))
