"""Search kind "tickets" (registered with core.search): by ticket number, or tickets whose subject has every word
(any substring, through the subject's bigram index: service migration 0012)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.core.textsearch import substring_matches
from guanxi.service.selectors import ticket_queryset, ticket_scope_parts


def search_tickets(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    if query.compact.startswith("GD"):
        by_number = list(ticket_queryset(user=user).select_related("customer").filter(number=query.compact)[:1])
    else:
        by_number = []
    if by_number:
        rows, match = by_number, "number"
    else:
        # Unordered in SQL, as every substring search (core.textsearch): a frequent word must stop at the LIMIT
        # instead of sorting all of its tickets; the newest of those found come first. One search per part of the
        # user's scope, each with an index to start from (see selectors.ticket_scope_parts).
        found = {}
        for part in ticket_scope_parts(user=user):
            for ticket in substring_matches(
                part.select_related("customer").order_by(), "subject", list(query.terms), limit
            ):
                found[ticket.pk] = ticket
        rows = sorted(found.values(), key=lambda t: (t.created_at, t.pk), reverse=True)[:limit]
        match = "subject"
    return [
        search.SearchHit(
            id=ticket.pk,
            title=f"{ticket.number} {ticket.subject}",
            subtitle=" · ".join(
                part
                for part in (
                    str(ticket.get_status_display()),
                    timezone.localtime(ticket.created_at).strftime("%Y-%m-%d"),
                    ticket.customer.name if ticket.customer_id else "",
                )
                if part
            ),
            url=reverse("service:detail", args=[ticket.pk]),
            match=match,
        )
        for ticket in rows
    ]


search.register(search.SearchKind("tickets", pgettext_lazy("search kind", "Tickets"), search_tickets, order=40))
