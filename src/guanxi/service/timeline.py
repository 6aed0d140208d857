"""Tickets on the customer timeline (activities.timeline, when that app is installed): one entry per ticket."""

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core.labels import choice_labels
from guanxi.core.names import full_name

SOURCE = "tickets"
KIND = "ticket"


def ticket_entries(*, user, customer, before, since, until, kinds, limit):
    """The customer's tickets the user may see, newest first (ticket_customer_idx: customer, created_at, id)."""
    from guanxi.activities import timeline
    from guanxi.service.models import Ticket
    from guanxi.service.models.config import Kind
    from guanxi.service.selectors import customer_tickets

    tickets = customer_tickets(user=user, customer=customer)
    if before is not None:
        tickets = tickets.filter(timeline.older_than(before, SOURCE, "created_at"))
    if since is not None:
        tickets = tickets.filter(created_at__gte=since)
    if until is not None:
        tickets = tickets.filter(created_at__lt=until)
    rows = tickets.order_by("-created_at", "-id").values_list(*ENTRY_COLUMNS)[:limit]
    type_labels, status_labels = choice_labels(Kind), choice_labels(Ticket.Status)
    detail_url = reverse("service:detail", args=[_URL_PLACEHOLDER])
    for pk, number, subject, ticket_type, status, created_at, resolution, description, first, last, username in rows:
        yield timeline.entry(
            at=created_at,
            source=SOURCE,
            id=pk,
            kind=KIND,
            kind_label=type_labels.get(ticket_type, ticket_type),
            title=f"{number} {subject}",
            summary=resolution[:200] or description[:200],
            status=status,
            actor=full_name(username, first, last),
            url=detail_url.replace(str(_URL_PLACEHOLDER), str(pk)),
            data={"number": number, "status_label": status_labels.get(status, status)},
        )


# The columns an entry shows, read as tuples (no model instances: this runs on every timeline page and 360 view).
ENTRY_COLUMNS = (
    "id",
    "number",
    "subject",
    "ticket_type",
    "status",
    "created_at",
    "resolution",
    "description",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)
_URL_PLACEHOLDER = 987654321987


def register_tickets() -> None:
    if not apps.is_installed("guanxi.activities"):
        return
    from guanxi.activities import timeline

    timeline.register(timeline.TimelineSource(SOURCE, {KIND: _("Ticket")}, ticket_entries))
