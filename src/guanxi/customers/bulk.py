"""The bulk write path of imports: numbers reserved per branch, batched inserts and updates, audit entries in bulk.

Everything here runs inside the one transaction the import opens; any exception rolls all of it back.
"""

from collections import defaultdict
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from guanxi.core import audit
from guanxi.core.bulk import insert_many, update_many
from guanxi.core.errors import StaleVersion
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer, Tag
from guanxi.customers.numbering import reserve_customer_numbers

if TYPE_CHECKING:
    from guanxi.customers.import_contacts import ContactPlanner
    from guanxi.customers.importers import CustomerWrites

AUDIT_ACTION = "import"
CHUNK = 500


def write_customers(*, actor, writes: "CustomerWrites") -> None:
    """Insert the new customers, update the changed ones, set their tags, then write their contacts."""
    series: dict[str, list[Customer]] = defaultdict(list)
    for customer in writes.new:
        series[writes.branch_codes[id(customer)]].append(customer)
    for code in sorted(series):  # always lock sequences in the same order: two imports cannot deadlock
        for customer, number in zip(series[code], reserve_customer_numbers(code, len(series[code])), strict=True):
            customer.number = number
    insert_many(Customer, writes.new)
    _update_versioned(Customer, writes.updates)
    _write_tags(writes)
    entries = [(customer, services._created(customer, writes.new_tags.get(id(customer)))) for customer in writes.new]
    entries += [(customer, changes) for customer, changes, _version in writes.updates]
    audit.record_many(actor=actor, action=AUDIT_ACTION, entries=entries)
    if writes.contacts is not None:
        write_contacts(actor=actor, planner=writes.contacts)


def write_contacts(*, actor, planner: "ContactPlanner") -> None:
    """Insert the new contacts (their customers saved by now) and update the changed ones."""
    created = []
    for customer, contact in planner.created:
        contact.customer_id = customer.pk
        created.append(contact)
    insert_many(Contact, created)
    _update_versioned(Contact, planner.updated)
    entries = [(contact, services._created(contact)) for contact in created]
    entries += [(contact, changes) for contact, changes, _version in planner.updated]
    audit.record_many(actor=actor, action=AUDIT_ACTION, entries=entries)


def _update_versioned(model: type[models.Model], updates: list[tuple[models.Model, dict, int]]) -> None:
    """bulk_update rows still at the version the plan read (checked under row locks); otherwise StaleVersion."""
    if not updates:
        return
    read = {instance.pk: version for instance, _changes, version in updates}
    ids = list(read)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        current = dict(model.objects.select_for_update().filter(pk__in=chunk).values_list("pk", "version"))
        if any(current.get(pk) != read[pk] for pk in chunk):
            raise StaleVersion
    now = timezone.now()
    fields = {"version", "updated_at"}
    for instance, changes, version in updates:
        instance.version = version + 1
        instance.updated_at = now
        fields.update(name for name in changes if name != "tags")
        if "name" in changes and hasattr(instance, "name_key"):
            fields.add("name_key")
    update_many(model, [instance for instance, _c, _v in updates], fields)


def _write_tags(writes: "CustomerWrites") -> None:
    names = {name for tags in writes.new_tags.values() for name in tags}
    names |= {name for tags in writes.tag_updates.values() for name in tags}
    if not names and not writes.tag_updates:
        return
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(names)], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk")) if names else {}
    through = Customer.tags.through
    rows = [
        through(customer_id=customer.pk, tag_id=tag_ids[name])
        for customer in writes.new
        for name in writes.new_tags.get(id(customer), [])
    ]
    changed = list(writes.tag_updates)
    for start in range(0, len(changed), CHUNK):
        through.objects.filter(customer_id__in=changed[start : start + CHUNK]).delete()
    rows += [through(customer_id=pk, tag_id=tag_ids[name]) for pk, tags in writes.tag_updates.items() for name in tags]
    insert_many(through, rows)
