"""Search kind "tickets" (registered with core.search): by ticket number, or tickets whose subject has every word
(any substring, through the subject's bigram index: service migration 0012).

Rows are values() dicts of the few columns a hit shows: ticket and customer instances, and compiling all of both
models' columns once per part of the scope, were most of this kind's Python time."""

from django.db.models import F
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.core import search
from guanxi.core.labels import choice_labels
from guanxi.core.scope import record_scope
from guanxi.core.search_statements import scoped_matches_in_parts
from guanxi.service.models import Ticket
from guanxi.service.selectors import ticket_queryset, ticket_scope_parts

HIT_FIELDS = ("id", "number", "subject", "status", "created_at", "customer_id")


def _hit_rows(queryset):
    return queryset.order_by().values(*HIT_FIELDS, customer_name=F("customer__name"))


def search_tickets(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    if query.compact.startswith("GD"):
        by_number = list(_hit_rows(ticket_queryset(user=user)).filter(number=query.compact)[:1])
    else:
        by_number = []
    if by_number:
        rows, match = by_number, "number"
    else:
        # Unordered in SQL, as every substring search (core.textsearch): a frequent word must stop at the LIMIT
        # instead of sorting all of its tickets; the newest of those found come first. One search per part of the
        # user's scope, each with an index to start from (see selectors.ticket_scope_parts); a rare word's
        # candidates are read once for all parts.
        # The parts' SQL depends only on the user's scope: compiled once per scope (core.search_statements).
        found = {
            row["id"]: row
            for row in scoped_matches_in_parts(
                key=("service.tickets", record_scope(user)),
                parts=lambda: [_hit_rows(part) for part in ticket_scope_parts(user=user)],
                model=Ticket,
                column="subject",
                terms=list(query.terms),
                limit=limit,
            )
        }
        rows = sorted(found.values(), key=lambda t: (t["created_at"], t["id"]), reverse=True)[:limit]
        match = "subject"
    url = search.detail_urls("service:detail")
    status_labels = choice_labels(Ticket.Status)
    return [
        search.SearchHit(
            id=ticket["id"],
            title=f"{ticket['number']} {ticket['subject']}",
            subtitle=" · ".join(
                part
                for part in (
                    status_labels.get(ticket["status"], ticket["status"]),
                    timezone.localtime(ticket["created_at"]).strftime("%Y-%m-%d"),
                    ticket["customer_name"] if ticket["customer_id"] else "",
                )
                if part
            ),
            url=url(ticket["id"]),
            match=match,
        )
        for ticket in rows
    ]


search.register(search.SearchKind("tickets", pgettext_lazy("search kind", "Tickets"), search_tickets, order=40))
