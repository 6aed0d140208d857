"""Merging two records of one customer (A4): the survivor keeps everything, the other stays as a tombstone.

customer_merge() runs in one transaction and either does all of this or nothing:

- the survivor takes, field by field, its own value or the merged customer's (`fields`); tags are unioned;
- every record of the merged customer moves to the survivor: its contacts (one primary contact remains), its members
  (children in the group hierarchy), older tombstones that pointed at it, and whatever other apps move through the
  handlers they register here;
- the merged customer becomes a tombstone: archived, `merged_into` the survivor, number and history kept, so old links
  and numbers still lead to the survivor;
- both customers get a "merge" audit entry (merged_from on the survivor, merged_into on the tombstone) with the
  before value of every changed field and the ids of every moved record (enough to undo it by hand); every moved
  contact and member gets one too.

Other apps register a handler in their AppConfig.ready(), so `customers` never imports them:

    from guanxi.customers.merge import register_merge_handler

    def move_tickets(*, actor, survivor, merged) -> dict[str, list[int]]:
        ids = list(Ticket.objects.filter(customer=merged).values_list("id", flat=True))
        Ticket.objects.filter(id__in=ids).update(customer=survivor)
        return {"tickets": ids}  # recorded in both audit entries as moved_tickets

    register_merge_handler(move_tickets)

A handler runs inside the merge's transaction, after the built-in moves: raising aborts the whole merge.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.core.versioning import save_if_version
from guanxi.customers.models import Contact, Customer
from guanxi.customers.normalize import name_key
from guanxi.customers.selectors import customer_queryset
from guanxi.customers.services import API_NAMES, CUSTOMER_FIELDS, _full_clean

Side = Literal["survivor", "merged"]
SURVIVOR: Side = "survivor"
MERGED: Side = "merged"
# The fields a merge chooses between (client names). Tags are always unioned.
MERGE_FIELDS = CUSTOMER_FIELDS
# Not a customer field: whose primary contact stays primary when both have one.
PRIMARY_CONTACT = "primary_contact"
UNIQUE_CODES = ("credit_code", "id_number")

MergeHandler = Callable[..., Mapping[str, list[int]] | None]
_handlers: list[MergeHandler] = []


@dataclass(frozen=True)
class MergeResult:
    survivor: Customer
    merged: Customer  # the tombstone
    moved: dict[str, list[int]]  # kind → ids of the records that moved to the survivor


def register_merge_handler(handler: MergeHandler) -> MergeHandler:
    """Add a handler called as handler(actor=…, survivor=…, merged=…) inside every merge; it moves its app's records
    from `merged` to `survivor` and returns {kind: [ids moved]} for the audit trail. Registering twice is harmless."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unregister_merge_handler(handler: MergeHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def merge_handlers() -> list[MergeHandler]:
    return list(_handlers)


def change_label(key: str) -> str | None:
    """The label of a key of a merge audit entry that is not a customer field (for the history panel)."""
    labels = {
        "merged_from": _("merged from"),
        "primary_contact_demoted": _("no longer primary contact"),
        "note": _("note"),
        "moved_contacts": _("contacts moved"),
        "moved_members": _("members moved"),
        "moved_tombstones": _("merged customers re-pointed"),
    }
    if key in labels:
        return labels[key]
    if key.startswith("moved_"):
        return _("moved: %(kind)s") % {"kind": key.removeprefix("moved_")}
    return None


def default_choice(field: str, survivor: Customer, merged: Customer) -> Side:
    """The side taken when the caller does not choose: the survivor's value, unless it is empty and the merged
    customer's is not (nothing is lost); sensitive if either is (a merge never exposes a sensitive customer)."""
    if field == "sensitive":
        return MERGED if merged.sensitive and not survivor.sensitive else SURVIVOR
    mine, theirs = getattr(survivor, field), getattr(merged, field)
    return MERGED if mine in (None, "") and theirs not in (None, "") else SURVIVOR


def customer_merge(
    *,
    actor,
    survivor_id: int,
    merged_id: int,
    survivor_version: int,
    merged_version: int,
    fields: Mapping[str, Side] | None = None,
) -> MergeResult:
    """Merge customer `merged_id` into `survivor_id` (see the module docstring). Both must be visible to the actor
    (404) and at the versions the actor read (409); a tombstone cannot take part (409)."""
    require(actor, "customers.change_customer")
    fields = dict(fields or {})
    _check_choices(fields)
    if survivor_id == merged_id:
        raise ValidationError({"merged_id": _("A customer cannot be merged with itself.")})
    with transaction.atomic():
        locked = customer_queryset(user=actor).select_for_update().filter(pk__in=[survivor_id, merged_id])
        both = {customer.pk: customer for customer in locked.order_by("pk")}
        if len(both) != 2:
            raise Http404
        survivor, merged = both[survivor_id], both[merged_id]
        for customer in (merged, survivor):
            if customer.merged_into_id:
                raise Conflict(
                    _("Customer %(number)s was already merged into another customer; merge with that one instead.")
                    % {"number": customer.number}
                )
        for customer, version in ((survivor, survivor_version), (merged, merged_version)):
            if customer.version != version:
                raise StaleVersion(customer.version)
        now = timezone.now()
        survivor_before, merged_before = audit.snapshot(survivor), audit.snapshot(merged)
        choices = {field: fields.get(field) or default_choice(field, survivor, merged) for field in MERGE_FIELDS}
        taken_codes = _apply_choices(survivor, merged, choices)

        # The tombstone first: it gives up the unique codes the survivor takes before the survivor is validated.
        merged.merged_into = survivor
        merged.archived_at = merged.archived_at or now
        for code in taken_codes:
            setattr(merged, code, None)
        save_if_version(merged, merged_version, ["merged_into", "archived_at", *taken_codes], api_names=API_NAMES)

        moved = {
            "members": _move_members(actor, survivor, merged, now),
            "tombstones": _repoint_tombstones(actor, survivor, merged),
        }
        _full_clean(survivor)  # after the members moved, so a parent chosen among them is caught as a cycle
        changed = [name for name, value in audit.snapshot(survivor).items() if survivor_before[name] != value]
        if "name" in changed:
            survivor.name_key = name_key(survivor.name)
            changed.append("name_key")
        # The version moves even when no field changed.
        save_if_version(survivor, survivor_version, changed, api_names=API_NAMES)
        swapped = _give_back_codes(survivor_before, merged, taken_codes)

        tags_before = sorted(tag.name for tag in survivor.tags.all())
        merged_tags = list(merged.tags.all())
        survivor.tags.add(*merged_tags)
        tags_after = sorted(set(tags_before) | {tag.name for tag in merged_tags})

        moved["contacts"], demoted = _move_contacts(actor, survivor, merged, fields.get(PRIMARY_CONTACT), now)
        for handler in merge_handlers():
            for kind, ids in (handler(actor=actor, survivor=survivor, merged=merged) or {}).items():
                moved[kind] = sorted(ids)

        survivor_changes = {"merged_from": [None, merged.pk]}
        survivor_changes |= audit.diff(survivor_before, audit.snapshot(survivor))
        for derived in ("version", "updated_at", "name_key"):
            survivor_changes.pop(derived, None)
        if tags_after != tags_before:
            survivor_changes["tags"] = [tags_before, tags_after]
        if demoted:
            survivor_changes["primary_contact_demoted"] = [None, demoted]
        merged_changes = {"merged_into": [None, survivor.pk]}
        merged_changes |= {
            key: value
            for key, value in audit.diff(merged_before, audit.snapshot(merged)).items()
            if key not in ("merged_into", "version", "updated_at")
        }
        for kind, ids in moved.items():
            if ids:
                survivor_changes[f"moved_{kind}"] = [None, ids]
                merged_changes[f"moved_{kind}"] = [ids, None]
        if swapped:
            merged_changes["note"] = [None, _("Took the codes the survivor gave up: %(codes)s") % {"codes": swapped}]
        audit.record(actor=actor, action="merge", instance=survivor, changes=survivor_changes)
        audit.record(actor=actor, action="merge", instance=merged, changes=merged_changes)
    survivor.refresh_from_db()
    return MergeResult(survivor=survivor, merged=merged, moved={kind: ids for kind, ids in moved.items() if ids})


def _check_choices(fields: dict) -> None:
    errors = {}
    for field, side in fields.items():
        if field not in MERGE_FIELDS and field != PRIMARY_CONTACT:
            errors[f"fields.{field}"] = _("Unknown field.")
        elif side not in (SURVIVOR, MERGED):
            errors[f"fields.{field}"] = _("Choose one of: %(choices)s.") % {"choices": f"{SURVIVOR}, {MERGED}"}
    if errors:
        raise ValidationError(errors)


def _apply_choices(survivor: Customer, merged: Customer, choices: dict[str, Side]) -> list[str]:
    """Set the survivor's fields as chosen (in memory). Returns the unique codes it takes from the merged customer."""
    taken = []
    for field, side in choices.items():
        if side != MERGED or getattr(survivor, field) == getattr(merged, field):
            continue
        setattr(survivor, field, getattr(merged, field))
        if field == "owner_id":  # a customer belongs to its owner's team
            survivor.org_unit_id = merged.org_unit_id
        if field in UNIQUE_CODES and getattr(merged, field):
            taken.append(field)
    # The merged customer's place in the group goes to the survivor: a parent pointing at either becomes its parent.
    if survivor.parent_id == merged.pk:
        survivor.parent_id = merged.parent_id if merged.parent_id != survivor.pk else None
    elif survivor.parent_id == survivor.pk:
        survivor.parent_id = None
    return taken


def _give_back_codes(survivor_before: dict, merged: Customer, taken: list[str]) -> dict[str, str]:
    """A code the survivor replaced goes to the tombstone, so looking it up still leads to the survivor."""
    given = {code: survivor_before[code] for code in taken if survivor_before[code]}
    if given:
        for code, value in given.items():
            setattr(merged, code, value)
        Customer.objects.filter(pk=merged.pk).update(**given)
    return given


def _move_members(actor, survivor: Customer, merged: Customer, now) -> list[int]:
    """Members of the merged customer become members of the survivor, in or out of the actor's scope."""
    members = list(Customer.objects.filter(parent=merged).exclude(pk=survivor.pk).only("id", "number", "name"))
    ids = [member.pk for member in members]
    if ids:
        Customer.objects.filter(pk__in=ids).update(parent=survivor, version=F("version") + 1, updated_at=now)
        audit.record_many(
            actor=actor, action="merge", entries=[(m, {"parent": [merged.pk, survivor.pk]}) for m in members]
        )
    return ids


def _repoint_tombstones(actor, survivor: Customer, merged: Customer) -> list[int]:
    """Customers merged earlier into the merged one now point straight at the survivor (one step to resolve)."""
    tombstones = list(Customer.objects.filter(merged_into=merged).only("id", "number", "name"))
    ids = [tombstone.pk for tombstone in tombstones]
    if ids:
        Customer.objects.filter(pk__in=ids).update(merged_into=survivor)
        audit.record_many(
            actor=actor, action="merge", entries=[(t, {"merged_into": [merged.pk, survivor.pk]}) for t in tombstones]
        )
    return ids


def _move_contacts(actor, survivor: Customer, merged: Customer, primary: Side | None, now) -> tuple[list[int], int]:
    """Move every contact; when both customers have a primary contact, one stays primary (the survivor's unless
    `primary` is "merged"). Returns the moved ids and the id of the contact no longer primary (0 if none)."""
    contacts = list(Contact.objects.filter(customer=merged).order_by("id").only("id", "name", "primary"))
    ids = [contact.pk for contact in contacts]
    if not ids:
        return [], 0
    survivor_primary = Contact.objects.filter(customer=survivor, primary=True).only("id", "name").first()
    merged_primary = next((contact for contact in contacts if contact.primary), None)
    entries = [(contact, {"customer": [merged.pk, survivor.pk]}) for contact in contacts]
    demoted = None
    if survivor_primary and merged_primary:
        demoted = survivor_primary if primary == MERGED else merged_primary
        Contact.objects.filter(pk=demoted.pk).update(primary=False, version=F("version") + 1, updated_at=now)
        if demoted is survivor_primary:
            entries.append((demoted, {"primary": [True, False]}))
        else:
            entries[contacts.index(demoted)][1]["primary"] = [True, False]
    Contact.objects.filter(pk__in=ids).update(customer=survivor, version=F("version") + 1, updated_at=now)
    audit.record_many(actor=actor, action="merge", entries=entries)
    return ids, demoted.pk if demoted else 0
