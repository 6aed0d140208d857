"""The ticket list filter: one definition shared by the API and the queue page."""

from enum import StrEnum

from django.db.models import Q, QuerySet
from pydantic import BaseModel, Field

from guanxi.service.models import Ticket
from guanxi.service.models.config import Kind, Priority


class StatusFilter(StrEnum):
    OPEN = "open"  # every status but resolved and closed (the default: a queue is what is still to do)
    ALL = "all"
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class TicketFilters(BaseModel):
    status: StatusFilter = Field(StatusFilter.OPEN, description="A status, `open` (default) or `all`")
    team_id: int | None = Field(None, description="The team's queue")
    owner_id: int | None = Field(None, description="Tickets owned by this user")
    customer_id: int | None = None
    ticket_type: Kind | None = None
    priority: Priority | None = None
    channel: Ticket.Channel | None = None
    breached: bool | None = Field(None, description="Only tickets past a deadline (true) or on time (false)")
    q: str | None = Field(None, max_length=100, description="Ticket number or subject substring")

    def apply(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.status == StatusFilter.OPEN:
            queryset = queryset.filter(status__in=Ticket.OPEN_STATUSES)
        elif self.status != StatusFilter.ALL:
            queryset = queryset.filter(status=self.status.value)
        for field in ("team_id", "owner_id", "customer_id", "ticket_type", "priority", "channel"):
            value = getattr(self, field)
            if value is not None:
                queryset = queryset.filter(**{field: value})
        if self.breached is not None:
            missed = Q(sla_state__gte=Ticket.SlaState.BREACHED)
            queryset = queryset.filter(missed if self.breached else ~missed)
        if self.q and self.q.strip():
            text = self.q.strip()
            queryset = queryset.filter(Q(number=text.upper()) | Q(subject__icontains=text))
        return queryset
