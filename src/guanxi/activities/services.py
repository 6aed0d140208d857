"""Every write of activities: validated, scoped, versioned and audited, each in one transaction."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities import selectors
from guanxi.activities.last_visits import is_done_visit, lock_customers, refresh_last_visits
from guanxi.activities.models import Activity
from guanxi.core import audit, audit_access
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.core.versioning import save_if_version
from guanxi.customers.models import Contact
from guanxi.customers.selectors import customer_queryset

# The fields clients write (API names).
ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "customer_id",
    "owner_id",
    "planned_start",
    "planned_end",
    "done_at",
    "status",
    "outcome",
    "notes",
    "next_step",
    "phone_number",
    "call_result",
    "duration_seconds",
    "recording_ref",
)
# Written through their own checks, not setattr.
RELATION_FIELDS = ("contact_ids", "participant_ids", "linked_type", "linked_id")
# Model field → the name clients send, so every error names the field the client knows.
API_NAMES = {"customer": "customer_id", "owner": "owner_id", "linked_type": "linked_type", "contacts": "contact_ids"}
TEXT_FIELDS = ("subject", "outcome", "notes", "next_step", "phone_number", "recording_ref")


def activity_create(*, actor, data: dict, call_id: str | None = None) -> Activity:
    """A new activity. The owner defaults to the actor; a done activity without `done_at` was done now."""
    require(actor, "activities.add_activity")
    data = _input(data)
    with transaction.atomic():
        activity = Activity(**{key: value for key, value in data.items() if key in ACTIVITY_FIELDS})
        if activity.owner_id is None:
            activity.owner_id = actor.pk
        _settle_status(activity, data)
        _check_references(actor, activity, data, creating=True)
        activity.org_unit = _unit_of_user(activity.owner_id)
        activity.created_by = actor
        activity.call_id = call_id
        _full_clean(activity)
        done_visit = is_done_visit(activity.kind, activity.status)
        if done_visit:
            lock_customers([activity.customer_id])  # before the insert key-shares it (lock order: last_visits)
        activity.save()
        if done_visit:
            refresh_last_visits([activity.customer_id])
        contacts, participants = _set_relations(activity, data)
        audit.record(
            actor=actor, action="create", instance=activity, changes=_created(activity, contacts, participants)
        )
        _notify_mentions(actor, activity, notes_before="")
    return activity


def activity_update(*, actor, activity_id: int, version: int, data: dict) -> Activity:
    """Apply `data` if the activity is still at `version`; otherwise StaleVersion and nothing changes."""
    require(actor, "activities.change_activity")
    data = _input(data)
    with transaction.atomic():
        activity = selectors.activity_get(user=actor, activity_id=activity_id)
        if activity.version != version:
            raise StaleVersion(activity.version)
        before = audit.snapshot(activity)
        contacts_before = sorted(c.pk for c in activity.contacts.all())
        participants_before = sorted(u.pk for u in activity.participants.all())
        for key in (key for key in data if key in ACTIVITY_FIELDS):
            setattr(activity, key, data[key])
        _settle_status(activity, data)
        _check_references(actor, activity, data, creating=False)
        if "owner_id" in data:
            activity.org_unit = _unit_of_user(activity.owner_id)
        _full_clean(activity)
        activity.happened_at = activity.compute_happened_at()
        changes = audit.diff(before, audit.snapshot(activity))
        contacts, participants = _relation_ids(activity, data)
        if contacts is not None and contacts != contacts_before:
            changes["contacts"] = [contacts_before, contacts]
        if participants is not None and participants != participants_before:
            changes["participants"] = [participants_before, participants]
        if not changes:
            return activity
        fields = [name for name in changes if name not in ("contacts", "participants", "version", "updated_at")]
        visit_changed = is_done_visit(before["kind"], before["status"]) or is_done_visit(activity.kind, activity.status)
        if visit_changed or "customer" in changes:
            # The customers before the activity row (lock order: activities.last_visits.lock_customers).
            lock_customers([before["customer"], activity.customer_id])
        save_if_version(activity, version, fields or ["subject"])  # only relations changed: bump the version
        if visit_changed:
            refresh_last_visits([before["customer"], activity.customer_id])
        if "contacts" in changes:
            activity.contacts.set(contacts)
        if "participants" in changes:
            activity.participants.set(participants)
        audit.record(actor=actor, action="update", instance=activity, changes=changes)
        if "notes" in changes:
            _notify_mentions(actor, activity, notes_before=before["notes"] or "")
    return activity


def activity_complete(
    *,
    actor,
    activity_id: int,
    version: int,
    outcome: str = "",
    done_at: datetime | None = None,
    next_step: str = "",
    next_step_at: datetime | None = None,
    call_result: str | None = None,
    duration_seconds: int | None = None,
) -> tuple[Activity, Activity | None]:
    """Mark a planned activity done; with a `next_step`, the follow-up task is created in the same transaction.

    Returns (the activity, the follow-up task or None). Completing a done or cancelled activity is a Conflict.
    """
    require(actor, "activities.change_activity")
    with transaction.atomic():
        activity = selectors.activity_get(user=actor, activity_id=activity_id)
        if activity.version != version:
            raise StaleVersion(activity.version)
        if activity.status != Activity.Status.PLANNED:
            raise Conflict(_("Only a planned activity can be completed."))
        # The customer before the activity: a visit's recount locks it, a follow-up task's insert key-shares it
        # (lock order: activities.last_visits.lock_customers).
        lock_customers([activity.customer_id])
        data: dict = {"status": Activity.Status.DONE, "done_at": done_at or timezone.now(), "outcome": outcome}
        if next_step:
            data["next_step"] = next_step
        if call_result is not None:
            data["call_result"] = call_result
        if duration_seconds is not None:
            data["duration_seconds"] = duration_seconds
        if next_step_at is not None and timezone.is_naive(next_step_at):
            raise ValidationError({"next_step_at": _("Give the time with its time zone.")})
        activity = activity_update(actor=actor, activity_id=activity.pk, version=version, data=data)
        follow_up = None
        if next_step.strip():
            # The follow-up stays with the activity's owner when the actor may assign work to them, else the actor.
            owner_id = activity.owner_id
            if owner_id != actor.pk and not users_in_scope(user=actor).filter(pk=owner_id).exists():
                owner_id = actor.pk
            data = {
                "kind": Activity.Kind.TASK,
                "subject": next_step.strip()[:200],
                "customer_id": activity.customer_id,
                "owner_id": owner_id,
                "planned_start": next_step_at,
                "contact_ids": [c.pk for c in activity.contacts.all()],
                **_link_of(activity),
            }
            try:
                follow_up = activity_create(actor=actor, data=data)
            except ValidationError as exc:  # e.g. a participant outside the customer's scope: nothing is completed
                raise ValidationError({"next_step": exc.messages}) from exc
            follow_up.follow_up_of = activity
            follow_up.save(update_fields=["follow_up_of"])
    return activity, follow_up


def activity_cancel(*, actor, activity_id: int, version: int) -> Activity:
    """Cancel a planned activity (a done one cannot be cancelled: Conflict)."""
    require(actor, "activities.change_activity")
    with transaction.atomic():
        activity = selectors.activity_get(user=actor, activity_id=activity_id)
        if activity.version != version:
            raise StaleVersion(activity.version)
        if activity.status != Activity.Status.PLANNED:
            raise Conflict(_("Only a planned activity can be cancelled."))
        return activity_update(
            actor=actor, activity_id=activity.pk, version=version, data={"status": Activity.Status.CANCELLED}
        )


def activity_delete(*, actor, activity_id: int, version: int | None = None) -> None:
    """Delete an activity (kept in the audit log with all its values)."""
    require(actor, "activities.delete_activity")
    with transaction.atomic():
        activity = selectors.activity_get(user=actor, activity_id=activity_id)
        if version is not None and activity.version != version:
            raise StaleVersion(activity.version)
        changes = _created(
            activity, [c.pk for c in activity.contacts.all()], [u.pk for u in activity.participants.all()]
        )
        audit.record(actor=actor, action="delete", instance=activity, changes=changes)
        done_visit = is_done_visit(activity.kind, activity.status)
        if done_visit:
            lock_customers([activity.customer_id])  # before the activity row (lock order: last_visits)
        activity.delete()
        if done_visit:
            refresh_last_visits([activity.customer_id])


def activities_move_to_survivor(*, actor, survivor, merged) -> dict[str, list[int]]:
    """customers.merge handler: the merged customer's activities move to the survivor."""
    ids = list(Activity.objects.filter(customer=merged).values_list("id", flat=True))
    Activity.objects.filter(id__in=ids).update(customer=survivor)
    refresh_last_visits([survivor.pk, merged.pk])
    return {"activities": ids}


# --- helpers ------------------------------------------------------------------------------------------------------


def _notify_mentions(actor, activity: Activity, *, notes_before: str) -> int:
    """@username in the notes: each newly mentioned colleague who may see the activity hears of it (J4)."""
    from guanxi.activities import notifications

    already = notifications.mentioned_usernames(notes_before)
    if not activity.notes or not notifications.mentioned_usernames(activity.notes) - already:
        return 0
    author = actor.get_full_name() or actor.username
    subject = activity.subject
    return notifications.notify_mentions(
        actor=actor,
        text=activity.notes,
        url=reverse("activities:detail", args=[activity.pk]),
        title=lambda: _("%(author)s mentioned you in %(subject)s") % {"author": author, "subject": subject},
        visible_to=lambda user: (
            user.username not in already and selectors.activity_visible(user=user, object_id=activity.pk)
        ),
    )


def _input(data: dict) -> dict:
    data = dict(data)
    for key in TEXT_FIELDS:
        if key in data:
            data[key] = (data[key] or "").strip()
    for key in ("planned_start", "planned_end", "done_at"):
        value = data.get(key)
        if isinstance(value, datetime) and timezone.is_naive(value):
            raise ValidationError({key: _("Give the time with its time zone.")})
    if "call_result" in data and data["call_result"] is None:
        data["call_result"] = ""
    return data


def _settle_status(activity: Activity, data: dict) -> None:
    """done_at and status agree: done_at given → done; done without done_at → done now; not done → no done_at."""
    if "done_at" in data and activity.done_at and "status" not in data:
        activity.status = Activity.Status.DONE
    if activity.status == Activity.Status.DONE and activity.done_at is None:
        activity.done_at = timezone.now()
    if activity.status == Activity.Status.PLANNED and "status" in data:
        activity.done_at = None


def _check_references(actor, activity: Activity, data: dict, *, creating: bool) -> None:
    """The customer, contacts, owner, participants and linked object must exist and be the actor's to use."""
    errors = {}
    customer_set = creating or "customer_id" in data
    visible_customers = customer_queryset(user=actor)
    if customer_set and activity.customer_id and not visible_customers.filter(pk=activity.customer_id).exists():
        errors["customer_id"] = _("No such customer.")
    owner_set = creating or "owner_id" in data
    owner_foreign = owner_set and activity.owner_id != actor.pk
    if owner_foreign and not users_in_scope(user=actor).filter(pk=activity.owner_id).exists():
        errors["owner_id"] = _("No such user in your scope.")
    contact_ids = data.get("contact_ids")
    if contact_ids:
        found = Contact.objects.filter(pk__in=contact_ids, customer_id=activity.customer_id).count()
        if activity.customer_id is None or found != len(set(contact_ids)):
            errors["contact_ids"] = _("Contacts must be contacts of the activity's customer.")
    participant_ids = data.get("participant_ids")
    if participant_ids:
        found = get_user_model().objects.filter(pk__in=participant_ids, is_active=True).count()
        if found != len(set(participant_ids)):
            errors["participant_ids"] = _("No such user.")
    if "linked_type" in data or "linked_id" in data:
        _check_link(actor, activity, data, errors)
    if errors:
        raise ValidationError(errors)


def _check_link(actor, activity: Activity, data: dict, errors: dict) -> None:
    label, object_id = data.get("linked_type"), data.get("linked_id")
    if not label and object_id is None:
        activity.linked_type, activity.linked_id = None, None
        return
    if not label or object_id is None:
        errors["linked_type" if not label else "linked_id"] = _("A linked object needs both its type and its id.")
        return
    app_label, _dot, model = str(label).partition(".")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        errors["linked_type"] = _("Unknown object type.")
        return
    model_class = content_type.model_class()
    exists = model_class is not None and model_class._default_manager.filter(pk=object_id).exists()
    # The owning app decides who may see the object (core.audit_access); unregistered types only need to exist.
    registered = label in audit_access._visible
    if not exists or (registered and not audit_access.can_see(actor, label, str(object_id))):
        errors["linked_id"] = _("No such object.")
        return
    activity.linked_type, activity.linked_id = content_type, object_id


def _relation_ids(activity: Activity, data: dict) -> tuple[list[int] | None, list[int] | None]:
    contacts = sorted(set(data["contact_ids"] or [])) if "contact_ids" in data else None
    if "customer_id" in data and contacts is None and activity.pk:
        # A new customer drops the contacts of the old one.
        contacts = sorted(c.pk for c in activity.contacts.all() if c.customer_id == activity.customer_id)
    participants = sorted(set(data["participant_ids"] or [])) if "participant_ids" in data else None
    return contacts, participants


def _set_relations(activity: Activity, data: dict) -> tuple[list[int], list[int]]:
    contacts, participants = _relation_ids(activity, data)
    if contacts:
        activity.contacts.set(contacts)
    if participants:
        activity.participants.set(participants)
    return contacts or [], participants or []


def _link_of(activity: Activity) -> dict:
    if activity.linked_type_id is None:
        return {}
    content_type = ContentType.objects.get_for_id(activity.linked_type_id)
    return {"linked_type": f"{content_type.app_label}.{content_type.model}", "linked_id": activity.linked_id}


def _unit_of_user(user_id: int):
    user = get_user_model().objects.select_related("profile__org_unit").filter(pk=user_id).first()
    return org_unit_of(user) if user else None


def _full_clean(activity: Activity) -> None:
    try:
        activity.full_clean(exclude=["happened_at", "org_unit", "created_by", "call_id", "follow_up_of"])
    except ValidationError as exc:
        raise ValidationError({API_NAMES.get(k, k): v for k, v in exc.message_dict.items()}) from exc


def _created(activity: Activity, contacts: list[int], participants: list[int]) -> dict:
    changes = {name: [None, value] for name, value in audit.snapshot(activity).items() if value not in (None, "")}
    if contacts:
        changes["contacts"] = [None, sorted(contacts)]
    if participants:
        changes["participants"] = [None, sorted(participants)]
    return changes
