"""Tickets on the customer timeline (activities.timeline, when that app is installed): one entry per ticket."""

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

SOURCE = "tickets"
KIND = "ticket"


def ticket_entries(*, user, customer, before, since, until, kinds, limit):
    """The customer's tickets the user may see, newest first (ticket_customer_idx: customer, created_at, id)."""
    from guanxi.activities import timeline
    from guanxi.service.selectors import ticket_queryset

    tickets = (
        ticket_queryset(user=user)
        .filter(customer_id=customer.pk)
        .filter(timeline.older_than(before, SOURCE, "created_at"))
    )
    if since is not None:
        tickets = tickets.filter(created_at__gte=since)
    if until is not None:
        tickets = tickets.filter(created_at__lt=until)
    for ticket in tickets.select_related("owner").order_by("-created_at", "-id")[:limit]:
        yield timeline.TimelineEntry(
            at=ticket.created_at,
            source=SOURCE,
            id=ticket.pk,
            kind=KIND,
            kind_label=str(ticket.get_ticket_type_display()),
            title=f"{ticket.number} {ticket.subject}",
            summary=ticket.resolution[:200] or ticket.description[:200],
            status=ticket.status,
            actor=ticket.owner.get_full_name() or ticket.owner.username,
            url=reverse("service:detail", args=[ticket.pk]),
            data={"number": ticket.number, "status_label": str(ticket.get_status_display())},
        )


def register_tickets() -> None:
    if not apps.is_installed("guanxi.activities"):
        return
    from guanxi.activities import timeline

    timeline.register(timeline.TimelineSource(SOURCE, {KIND: _("Ticket")}, ticket_entries))
