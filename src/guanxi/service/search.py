"""Search kind "tickets" (registered with core.search): by ticket number, or tickets whose subject has every word."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.service.selectors import ticket_queryset


def search_tickets(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    tickets = ticket_queryset(user=user).select_related("customer")
    by_number = list(tickets.filter(number=query.compact)[:1]) if query.compact.startswith("GD") else []
    if by_number:
        rows, match = by_number, "number"
    else:
        for term in query.terms:
            tickets = tickets.filter(subject__icontains=term)
        rows, match = list(tickets.order_by("-created_at", "-id")[:limit]), "subject"
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
