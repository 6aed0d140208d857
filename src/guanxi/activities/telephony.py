"""Calls from the phone system (CTI, D1): call events in, screen pops for the agent, calls logged as activities.

Event flow (format in docs/activities.md):

    ringing ──► PhoneCall (state ringing) + screen pop for the agent (known number: the customer's 360 view;
    │           unknown number: "new customer" / "new lead")
    answered ─► answered_at
    ended ────► the call Activity (inbound/outbound call, done, duration, result) created or updated

Events may arrive out of order or twice (phone systems retry): each one upserts the PhoneCall by its call id, and
`ended` creates the activity once and updates it after that (the activity's call_id is unique).
"""

import re
import unicodedata
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity, PhoneCall
from guanxi.core import audit
from guanxi.core.masking import mask_phone, phone_for
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of
from guanxi.core.textsearch import NotEmpty, WithoutHyphens
from guanxi.customers.models import Contact
from guanxi.customers.selectors import contact_queryset

EVENTS = ("ringing", "answered", "ended")
POP_TTL = timedelta(minutes=10)  # a pop left open longer than this is stale: the caller has hung up long ago
POP_LIMIT = 5
_SEPARATORS = re.compile(r"[\s\-()（）.]+")
_NUMBER = re.compile(r"^\d{3,20}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_number(raw: str) -> str:
    """Digits only, without +86/0086/86 and the trunk 0 some exchanges put before a mobile: 13812345678,
    04522345678 (landlines keep their area code, the way contacts store them without the hyphen)."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if digits.startswith("86") and _MOBILE.match(digits[2:]):
        digits = digits[2:]
    if digits.startswith("0") and _MOBILE.match(digits[1:]):
        digits = digits[1:]
    return digits


def handle_event(
    *,
    actor,
    event: str,
    call_id: str,
    caller: str,
    called: str = "",
    direction: str = PhoneCall.Direction.INBOUND,
    agent: str = "",
    extension: str = "",
    timestamp: datetime,
    result: str = "",
    duration_seconds: int | None = None,
    recording: str = "",
) -> PhoneCall:
    """Apply one call event; ValidationError (nothing stored) when it is malformed or names an unknown agent."""
    require(actor, "activities.post_telephony_events")
    errors = {}
    if event not in EVENTS:
        errors["event"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(EVENTS)}
    number_field = "caller" if direction == PhoneCall.Direction.INBOUND else "called"
    number = normalize_number(caller if number_field == "caller" else called)
    if not _NUMBER.match(number):
        errors[number_field] = _("Not a phone number.")
    if timezone.is_naive(timestamp):
        errors["timestamp"] = _("Give the time with its time zone.")
    agent_user = _agent(agent, extension)
    if agent_user is None:
        errors["agent"] = _("No active user with this username or extension.")
    if result and event != "ended":
        errors["result"] = _("Only an ended call has a result.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        call = PhoneCall.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            call = PhoneCall(call_id=call_id, direction=direction, number=number)
            if direction == PhoneCall.Direction.OUTBOUND:
                call.pop_dismissed_at = timezone.now()  # the agent dialled: nothing to pop
        call.caller_number = caller.strip()[:32]
        call.called_number = (called or "").strip()[:32]
        call.extension = extension.strip()[:32]
        if call.agent_id != agent_user.pk or call.customer_id is None:
            call.agent = agent_user
            call.contact = find_contact(user=agent_user, number=call.number)
            call.customer = call.contact.customer if call.contact else None
        if recording:
            call.recording_ref = recording.strip()[:500]
        _advance(call, event, timestamp)
        call.save()
        if event == "ended":
            _log_call(actor, call, result, duration_seconds)
    return call


def find_contact(*, user, number: str) -> Contact | None:
    """The contact with this mobile or landline among those `user` may see: live customers and primary contacts
    first. Both lookups use the contacts' phone indexes (contact_mobile_idx, contact_landline_digits_idx)."""
    if not number:
        return None
    phones = Q(mobile=number) | (Q(landline_digits=number) & Q(NotEmpty("landline")))
    return (
        contact_queryset(user=user)
        .alias(landline_digits=WithoutHyphens("landline"))
        .filter(phones)
        .select_related("customer")
        .order_by(F("customer__archived_at").asc(nulls_first=True), "-primary", "id")
        .first()
    )


def pending_screen_pops(*, user) -> list[PhoneCall]:
    """The agent's open pops (inbound calls of the last POP_TTL not yet dismissed), newest first."""
    if not user.is_authenticated:
        return []
    return list(
        PhoneCall.objects.filter(agent=user, pop_dismissed_at__isnull=True, created_at__gte=timezone.now() - POP_TTL)
        .select_related("customer", "contact")
        .order_by("-created_at", "-id")[:POP_LIMIT]
    )


def screen_pop_dismiss(*, actor, phone_call_id: int) -> None:
    if not PhoneCall.objects.filter(pk=phone_call_id, agent=actor).update(pop_dismissed_at=timezone.now()):
        raise Http404


def screen_pop(user, call: PhoneCall) -> dict:
    """What the pop shows: the customer (a link to its 360 view) or, for an unknown number, what to create."""
    known = call.customer_id is not None
    offers = {}
    if not known:
        offers["new_customer"] = reverse("customers:create")
        lead_url = _url_or_none("sales:lead_create")
        if lead_url:
            # The lead form takes a mobile (prefilled, source "inbound call"); a landline is typed in by the agent.
            prefill = urlencode({"mobile": call.number}) if _MOBILE.match(call.number) else ""
            offers["new_lead"] = f"{lead_url}?{prefill}" if prefill else lead_url
    return {
        "id": call.pk,
        "call_id": call.call_id,
        "state": call.state,
        "number": phone_for(user, call.number),
        "known": known,
        "customer": {
            "id": call.customer_id,
            "name": call.customer.name,
            "number": call.customer.number,
            "url": reverse("customers:detail", args=[call.customer_id]),
        }
        if known
        else None,
        "contact": {"id": call.contact_id, "name": call.contact.name} if call.contact_id else None,
        "activity_id": call.activity_id,
        "at": (call.rang_at or call.created_at).isoformat(),
        "offers": offers,
    }


# --- helpers ------------------------------------------------------------------------------------------------------


def _agent(username: str, extension: str):
    users = get_user_model().objects.filter(is_active=True).select_related("profile__org_unit")
    if username:
        return users.filter(username=username).first()
    if extension.strip():
        return users.filter(profile__phone=extension.strip()).order_by("pk").first()
    return None


def _advance(call: PhoneCall, event: str, at: datetime) -> None:
    """Record the event's time; the state only moves forward (a late `ringing` does not reopen an ended call)."""
    order = {PhoneCall.State.RINGING: 0, PhoneCall.State.ANSWERED: 1, PhoneCall.State.ENDED: 2}
    if event == "ringing":
        call.rang_at = call.rang_at or at
    elif event == "answered":
        call.answered_at = call.answered_at or at
    else:
        call.ended_at = at
    if order[PhoneCall.State(event)] >= order[PhoneCall.State(call.state)]:
        call.state = event


def _log_call(actor, call: PhoneCall, result: str, duration_seconds: int | None) -> Activity:
    """Create (or, for a repeated `ended`, update) the call's activity, owned by the agent, audited."""
    if not result:
        result = Activity.CallResult.CONNECTED if call.answered_at else Activity.CallResult.NO_ANSWER
    if duration_seconds is None:
        talk = (call.ended_at - call.answered_at).total_seconds() if call.answered_at and call.ended_at else 0
        duration_seconds = max(int(talk), 0)
    inbound = call.direction == PhoneCall.Direction.INBOUND
    who = (
        call.contact.name if call.contact_id else (call.customer.name if call.customer_id else mask_phone(call.number))
    )
    values = {
        "kind": Activity.Kind.INBOUND_CALL if inbound else Activity.Kind.OUTBOUND_CALL,
        "subject": (_("Call from %(who)s") if inbound else _("Call to %(who)s")) % {"who": who},
        "customer_id": call.customer_id,
        "owner_id": call.agent_id,
        "status": Activity.Status.DONE,
        "planned_start": call.rang_at or call.answered_at or call.ended_at,
        "done_at": call.ended_at,
        "phone_number": call.number,
        "call_result": result,
        "duration_seconds": duration_seconds,
        "recording_ref": call.recording_ref,
    }
    activity = Activity.objects.filter(call_id=call.call_id).first()
    if activity is None:
        activity = Activity(**values, call_id=call.call_id, created_by=actor, org_unit=org_unit_of(call.agent))
        _clean(activity)
        activity.save()
        if call.contact_id:
            activity.contacts.add(call.contact_id)
        changes = {name: [None, value] for name, value in audit.snapshot(activity).items() if value not in (None, "")}
        audit.record(actor=actor, action="create", instance=activity, changes=changes)
    else:
        before = audit.snapshot(activity)
        for key, value in values.items():
            if key != "subject":  # the agent may have retitled it
                setattr(activity, key, value)
        _clean(activity)
        activity.version += 1
        activity.save()
        changes = audit.diff(before, audit.snapshot(activity))
        changes.pop("updated_at", None)
        audit.record(actor=actor, action="update", instance=activity, changes=changes)
    call.activity = activity
    call.save(update_fields=["activity", "updated_at"])
    return activity


def _clean(activity: Activity) -> None:
    activity.full_clean(exclude=["happened_at", "org_unit", "created_by", "follow_up_of", "customer", "owner"])


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
