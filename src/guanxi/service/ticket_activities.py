"""Activities linked to a ticket (the activities app's generic link, as sales links deals): the ticket page lists
them and creates follow-ups (a call back, a site visit, a task) linked to the ticket and its customer."""

from django.db import transaction

from guanxi.activities import selectors as activity_selectors
from guanxi.activities import services as activity_services
from guanxi.activities.models import Activity
from guanxi.customers.selectors import customer_queryset
from guanxi.service import selectors
from guanxi.service.models import Ticket

LINKED_TYPE = "service.ticket"
FOLLOW_UP_FIELDS = ("kind", "subject", "planned_start", "planned_end", "notes", "owner_id")


def activities_of_ticket(*, user, ticket: Ticket, limit: int = 50) -> list[Activity]:
    """The activities linked to a visible ticket that `user` may see, newest first."""
    return activity_selectors.activities_of(user=user, instance=ticket, limit=limit)


def follow_up_create(*, actor, ticket_id: int, data: dict) -> Activity:
    """A planned activity linked to the ticket (404 when the ticket is out of scope), on the ticket's customer when
    the actor may see that customer (a hand-over receiver from another branch links it to the ticket only)."""
    ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id)
    values = {key: value for key, value in data.items() if key in FOLLOW_UP_FIELDS}
    values["linked_type"] = LINKED_TYPE
    values["linked_id"] = ticket.pk
    values["status"] = Activity.Status.PLANNED
    if ticket.customer_id and customer_queryset(user=actor).filter(pk=ticket.customer_id).exists():
        values["customer_id"] = ticket.customer_id
    with transaction.atomic():
        return activity_services.activity_create(actor=actor, data=values)
