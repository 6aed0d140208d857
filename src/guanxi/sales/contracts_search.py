"""Search kinds "quotes" and "contracts" (registered with core.search): by number (QT…/HT…, prefix) or by words of the
title, within the user's scope. Numbers are unique-indexed; a title scan is bounded by the scope and `limit`.
Rows are values() dicts of the columns a hit shows: compiling all columns of the quote or contract and its customer
was most of each kind's Python time."""

from django.db.models import F, Q
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.sales.contracts import contract_queryset
from guanxi.sales.models import Contract, Quote
from guanxi.sales.quotes import quote_queryset

QUOTE_STATUS = dict(Quote.Status.choices)
CONTRACT_STATUS = dict(Contract.Status.choices)


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
    rows = (
        quote_queryset(user=user)
        .filter(condition)
        .values("id", "number", "revision", "title", "status", "total", customer_name=F("customer__name"))
        .order_by("-created_at", "-id")
    )
    url = search.detail_urls("sales:quote_detail")
    return [
        search.SearchHit(
            id=quote["id"],
            title=f"{quote['number']} v{quote['revision']} {quote['title']}",
            subtitle=" · ".join(
                (quote["customer_name"], str(QUOTE_STATUS.get(quote["status"], quote["status"])), str(quote["total"]))
            ),
            url=url(quote["id"]),
            match="number" if by_number else "title",
        )
        for quote in rows[:limit]
    ]


def search_contracts(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    condition, by_number = _condition(query)
    rows = (
        contract_queryset(user=user)
        .filter(condition)
        .values("id", "number", "title", "status", "end_date", customer_name=F("customer__name"))
        .order_by("-created_at", "-id")
    )
    url = search.detail_urls("sales:contract_detail")
    return [
        search.SearchHit(
            id=contract["id"],
            title=f"{contract['number']} {contract['title']}",
            subtitle=" · ".join(
                (
                    contract["customer_name"],
                    str(CONTRACT_STATUS.get(contract["status"], contract["status"])),
                    f"{contract['end_date']:%Y-%m-%d}",
                )
            ),
            url=url(contract["id"]),
            match="number" if by_number else "title",
        )
        for contract in rows[:limit]
    ]


search.register(search.SearchKind("quotes", pgettext_lazy("search kind", "Quotes"), search_quotes, order=50))
search.register(search.SearchKind("contracts", pgettext_lazy("search kind", "Contracts"), search_contracts, order=51))
