"""API shapes for tickets, hand-overs, types and the holiday calendar. Validation rules live in the services."""

from datetime import date, datetime

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from guanxi.service.models import Holiday, Ticket
from guanxi.service.models.config import Kind, Priority


class TicketIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description="The customer; leave empty for an unknown caller")
    contact_id: int | None = None
    caller_name: str = Field("", max_length=100, description="An unknown caller's name (no customer yet)")
    caller_phone: str = Field("", max_length=32)
    caller_address: str = Field("", max_length=300)
    channel: Ticket.Channel
    ticket_type: Kind
    sub_type_id: int | None = None
    priority: Priority = Priority.NORMAL
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20000)


class TicketPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    customer_id: int | None = None
    contact_id: int | None = None
    caller_name: str | None = Field(None, max_length=100)
    caller_phone: str | None = Field(None, max_length=32)
    caller_address: str | None = Field(None, max_length=300)
    sub_type_id: int | None = None
    priority: Priority | None = None
    subject: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)


class ActionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    note: str = Field("", max_length=2000)


class ResolveIn(ActionIn):
    resolution: str = Field(..., max_length=20000)
    cause_id: int | None = None


class HandoverIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    to_user_id: int | None = Field(None, description="Hand over to this person …")
    to_team_id: int | None = Field(None, description="… or to anyone of this team")
    reason: str = Field(..., max_length=2000)


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000, description="Required to decline")


# A person or team as {id, name}. PersonOut, TicketOut and TicketPage are plain pydantic models, not ninja Schemas:
# a Schema wraps every input in a Django attribute getter, paid four times per ticket of a list page. (Comments, not
# docstrings: a docstring would become a description in the OpenAPI document.)
class PersonOut(BaseModel):
    id: int
    name: str


class HandoverOut(Schema):
    id: int
    from_user: PersonOut
    to_user: PersonOut | None
    to_team: PersonOut | None
    reason: str
    status: str
    status_label: str
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    decided_by: PersonOut | None
    note: str


class EventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    actor: str
    from_status: str
    to_status: str
    note: str
    # Structured facts where the event has them: a deadline move's {"response_due_at": [old, new],
    # "resolution_due_at": [old, new], "reason": {...}}.
    details: dict | None = None


# A ticket as the API shows it, from a dict: selectors.ticket_rows (the list) or api.ticket_data (one ticket).
class TicketOut(BaseModel):
    id: int
    number: str
    customer_id: int | None
    customer_name: str | None
    contact_id: int | None
    caller_name: str
    caller_phone: str
    caller_address: str
    channel: str
    ticket_type: str
    ticket_type_label: str
    sub_type_id: int | None
    priority: str
    subject: str
    description: str
    receiver: PersonOut
    owner: PersonOut
    team: PersonOut | None
    status: str
    status_label: str
    sla_grade: str
    around_the_clock: bool
    response_due_at: datetime
    resolution_due_at: datetime
    sla_due_at: datetime
    sla_state: int
    paused_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_breached: bool
    resolution_breached: bool
    resolution: str
    cause_id: int | None
    created_at: datetime
    version: int


class TicketDetailOut(TicketOut):
    handovers: list[HandoverOut]
    events: list[EventOut]


class TicketPage(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # a core.pagination.Page of rows

    items: list[TicketOut]
    next: str | None


class NamedOut(Schema):
    id: int
    name: str


class TicketTypeOut(Schema):
    code: str
    label: str
    around_the_clock: bool
    sub_types: list[NamedOut]
    causes: list[NamedOut]


class HolidayIn(Schema):
    model_config = ConfigDict(extra="forbid")

    date: date
    kind: Holiday.DayKind = Holiday.DayKind.OFF
    name: str = Field("", max_length=100)


class HolidayPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    kind: Holiday.DayKind | None = None
    name: str | None = Field(None, max_length=100)


class HolidayOut(Schema):
    id: int
    date: date
    kind: str
    name: str
    version: int
