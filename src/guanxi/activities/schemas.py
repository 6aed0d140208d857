"""API shapes for activities, the timeline and telephony events. Validation rules live in the models and services."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from guanxi.activities.models import Activity, PhoneCall
from guanxi.core.masking import phone_for

LINKED_TYPE = Field(
    None, max_length=100, description="The linked object's type as app_label.model, e.g. sales.opportunity"
)


class ActivityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Activity.Kind
    subject: str = Field(..., min_length=1, max_length=200)
    customer_id: int | None = None
    contact_ids: list[int] = Field(default_factory=list, max_length=50)
    owner_id: int | None = Field(None, description="Defaults to you")
    participant_ids: list[int] = Field(default_factory=list, max_length=50)
    linked_type: str | None = LINKED_TYPE
    linked_id: int | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    done_at: datetime | None = Field(None, description="Set for an activity already done (a logged call)")
    status: Activity.Status | None = None
    outcome: str = Field("", max_length=500)
    notes: str = Field("", max_length=20000)
    next_step: str = Field("", max_length=300)
    phone_number: str = Field("", max_length=32)
    call_result: Activity.CallResult | None = None
    duration_seconds: int | None = Field(None, ge=0, le=86400)
    recording_ref: str = Field("", max_length=500)


class ActivityPatch(Schema):
    """Only the fields sent are changed. `version` is the one you read; a stale one gets 409."""

    model_config = ConfigDict(extra="forbid")

    version: int
    kind: Activity.Kind | None = None
    subject: str | None = Field(None, min_length=1, max_length=200)
    customer_id: int | None = None
    contact_ids: list[int] | None = Field(None, max_length=50)
    owner_id: int | None = None
    participant_ids: list[int] | None = Field(None, max_length=50)
    linked_type: str | None = LINKED_TYPE
    linked_id: int | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    done_at: datetime | None = None
    status: Activity.Status | None = None
    outcome: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=20000)
    next_step: str | None = Field(None, max_length=300)
    phone_number: str | None = Field(None, max_length=32)
    call_result: Activity.CallResult | None = None
    duration_seconds: int | None = Field(None, ge=0, le=86400)
    recording_ref: str | None = Field(None, max_length=500)


class CompleteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    outcome: str = Field("", max_length=500)
    done_at: datetime | None = Field(None, description="Defaults to now")
    next_step: str = Field("", max_length=300, description="If given, a follow-up task with this subject is created")
    next_step_at: datetime | None = Field(None, description="When the follow-up task is planned")
    call_result: Activity.CallResult | None = None
    duration_seconds: int | None = Field(None, ge=0, le=86400)


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int


class ActivityOut(Schema):
    id: int
    kind: str
    kind_label: str
    subject: str
    status: str
    customer_id: int | None
    customer: str | None
    contact_ids: list[int]
    owner_id: int
    owner: str
    participant_ids: list[int]
    org_unit_id: int | None
    linked_type: str | None
    linked_id: int | None
    planned_start: datetime | None
    planned_end: datetime | None
    done_at: datetime | None
    happened_at: datetime = Field(..., description="done_at, else planned_start, else creation: the timeline's order")
    outcome: str
    notes: str
    next_step: str
    follow_up_of_id: int | None
    direction: str = Field(..., description="inbound / outbound for calls, empty otherwise")
    phone_number: str = Field(..., description="Masked (138****1234) for roles that see phones masked")
    call_result: str
    duration_seconds: int | None
    recording_ref: str
    call_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_customer(obj) -> str | None:
        return obj.customer.name if obj.customer_id else None

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.owner.get_full_name() or obj.owner.username

    @staticmethod
    def resolve_contact_ids(obj) -> list[int]:
        return sorted(contact.pk for contact in obj.contacts.all())

    @staticmethod
    def resolve_participant_ids(obj) -> list[int]:
        return sorted(user.pk for user in obj.participants.all())

    @staticmethod
    def resolve_linked_type(obj) -> str | None:
        return f"{obj.linked_type.app_label}.{obj.linked_type.model}" if obj.linked_type_id else None

    @staticmethod
    def resolve_phone_number(obj, context) -> str:
        return phone_for(context["request"].user, obj.phone_number)


class ActivityPage(Schema):
    items: list[ActivityOut]
    next: str | None


class CompleteOut(Schema):
    activity: ActivityOut
    follow_up: ActivityOut | None


# A timeline entry as its source built it (a plain dict: activities.timeline.TimelineEntry); a plain pydantic model
# validates it without ninja's per-object attribute lookups. (No docstring: it would change the OpenAPI document.)
class TimelineEntryOut(BaseModel):
    at: datetime
    source: str = Field(..., description="Which registered source: activities, deals, tickets …")
    id: int
    kind: str
    kind_label: str
    title: str
    summary: str
    status: str
    actor: str
    url: str
    data: dict[str, Any]


class TimelinePage(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # a core.pagination.Page of entries

    items: list[TimelineEntryOut]
    next: str | None


class TelephonyEventIn(Schema):
    """One call event from the phone system (see docs/activities.md)."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["ringing", "answered", "ended"]
    call_id: str = Field(..., min_length=1, max_length=64, description="The phone system's id of the call")
    direction: PhoneCall.Direction = PhoneCall.Direction.INBOUND
    caller: str = Field(..., min_length=1, max_length=32, description="Calling number")
    called: str = Field("", max_length=32, description="Called number")
    agent: str = Field("", max_length=150, description="The agent's username (or give `extension`)")
    extension: str = Field("", max_length=32, description="The agent's extension (their profile phone)")
    timestamp: datetime = Field(..., description="When the event happened, ISO 8601 with offset")
    result: Activity.CallResult | None = Field(None, description="ended only; default connected if answered")
    duration_seconds: int | None = Field(None, ge=0, le=86400, description="ended only; default answered → ended")
    recording: str = Field("", max_length=500, description="Recording reference (URL or id in the recorder)")


class CustomerRef(Schema):
    id: int
    name: str
    number: str
    url: str


class ContactRef(Schema):
    id: int
    name: str


class ScreenPopOut(Schema):
    id: int
    call_id: str
    state: str
    number: str
    known: bool
    customer: CustomerRef | None
    contact: ContactRef | None
    activity_id: int | None
    at: str
    offers: dict[str, str] = Field(..., description="Unknown number: new_customer / new_lead page links")


class TelephonyEventOut(Schema):
    call_id: str
    state: str
    customer_id: int | None
    contact_id: int | None
    agent: str | None
    activity_id: int | None


class ScreenPopList(Schema):
    items: list[ScreenPopOut]
