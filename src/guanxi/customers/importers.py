"""Importers of customers (with their contacts) and of contacts, registered with guanxi.imports.

plan() checks every row with the rules the services apply — the same input normalisation, the models' field
validators and clean(), references and uniqueness looked up in bulk instead of per row — and writes nothing.
apply() writes the plan in bulk inside the import's one transaction (see customers.bulk).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit
from guanxi.core.bulk import new_instance
from guanxi.customers import bulk, services
from guanxi.customers.import_contacts import ContactImporter, ContactPlanner
from guanxi.customers.import_context import ImportContext, chunks, visible_customers
from guanxi.customers.import_rows import (
    CONTACT_UNCHECKED,
    CUSTOMER_FIELDS,
    CUSTOMER_UNCHECKED,
    ORG,
    PERSON,
    PREVIEW_ROWS,
    Line,
    errors_of,
    read_customer,
)
from guanxi.customers.models import Contact, Customer
from guanxi.customers.normalize import name_key
from guanxi.imports.registry import Importer, Plan, Progress, register
from guanxi.imports.values import text

MATCH_KEYS = ("number", "credit_code", "id_number", "name")


@dataclass
class Group:
    """The rows that describe one customer (one row per contact is a common layout)."""

    key: object
    lines: list[Line]
    target: Customer | None = None  # the existing customer the rows update
    customer: Customer | None = None
    action: str = "create"
    tags_before: list[str] | None = None


@dataclass
class CustomerWrites:
    new: list[Customer] = field(default_factory=list)
    branch_codes: dict[int, str] = field(default_factory=dict)  # id(customer) → numbering series
    new_tags: dict[int, list[str]] = field(default_factory=dict)  # id(customer) → tag names
    updates: list[tuple[Customer, dict, int]] = field(default_factory=list)  # customer, changes, version read
    tag_updates: dict[int, list[str]] = field(default_factory=dict)  # customer pk → the new tag set
    contacts: "ContactPlanner | None" = None


class CustomerImporter(Importer):
    """Customers with their contacts, from CSV or XLSX; rows with the same identifier describe one customer."""

    kind = "customers"
    label = gettext_lazy("Customers with contacts")
    permission = "customers.add_customer"
    fields = CUSTOMER_FIELDS
    default_options = {"match": list(MATCH_KEYS)}

    def missing_fields(self, mapped: set[str]) -> list[str]:
        """New customers need a name; rows that update existing customers may bring only an identifier."""
        if mapped & {"name", "number", "credit_code", "id_number"}:
            return []
        return [str(f.label) for f in self.fields if f.key in ("name", "number", "credit_code", "id_number")]

    def clean_options(self, options: dict) -> dict:
        options = super().clean_options(options)
        match = options.get("match")
        if isinstance(match, str):
            match = [part.strip() for part in match.split(",") if part.strip()]
        if not isinstance(match, list) or not match or not set(match) <= set(MATCH_KEYS):
            message = _("Choose one or more of: %(choices)s.") % {"choices": ", ".join(MATCH_KEYS)}
            raise ValidationError({"match": message})
        return {**options, "match": match}

    def plan(self, *, actor, rows, options: dict, progress: Progress) -> Plan:
        plan, ctx = Plan(), ImportContext(actor)
        lines: list[Line] = []
        shown: dict[int, dict] = {}
        for row in rows:
            if len(shown) < PREVIEW_ROWS:
                shown[row.number] = {key: text(value) for key, value in row.values.items() if text(value)}
            lines.append(read_customer(row, ctx, plan))
            if len(lines) % 1000 == 0:
                progress(len(lines) // 2)
        plan.total = len(lines)
        groups = self._group(lines, actor, options["match"], plan)
        self._check_unique(groups, plan)
        existing_ids = {group.target.pk for group in groups if group.target is not None}
        writes = CustomerWrites(contacts=ContactPlanner(actor, plan, "contact_", existing_ids))
        tags_now = _tags_of(existing_ids)
        can_change = actor.has_perm("customers.change_customer")
        actions: dict[int, str] = {}
        for done, group in enumerate(groups, start=1):
            self._build(group, ctx, plan, writes, tags_now, can_change)
            for line in group.lines:
                actions[line.number] = self._contact_of(line, group, writes.contacts)
            if done % 1000 == 0:
                progress((plan.total + done * plan.total // len(groups)) // 2)
        plan.created = len(writes.new)
        plan.updated = len(writes.updates)
        plan.unchanged = sum(1 for group in groups if group.action == "unchanged")
        plan.summary = writes.contacts.summary()
        plan.preview = [
            {"row": number, "action": actions.get(number, "error"), "values": values}
            for number, values in shown.items()
        ]
        plan.payload = writes
        return plan

    def _contact_of(self, line: Line, group: "Group", contacts: "ContactPlanner") -> str:
        """Plan the row's contact; the row's action as the preview shows it."""
        if group.action == "error":
            return "error"
        if not line.contact:
            return group.action
        contact_action = contacts.add(line, group.customer)
        if contact_action == "error":
            return "error"
        return "update" if group.action == "unchanged" and contact_action != "unchanged" else group.action

    def _group(self, lines: list[Line], actor, match: list[str], plan: Plan) -> list["Group"]:
        """Rows → customers: matched to a visible customer by the first identifier it has, or new."""
        identities = {line.number: _identity(line, match) for line in lines}
        found = visible_customers(actor, [identity for identity in identities.values() if identity])
        groups: dict[object, Group] = {}
        for line in lines:
            identity = identities[line.number]
            target = found.get(identity) if identity else None
            if identity and identity[0] == "number" and target is None:
                plan.error(line.number, "number", _("No customer with this number in your scope."), identity[1])
                line.ok = False
            if isinstance(target, str):  # several customers share this name
                plan.error(line.number, "name", target, line.customer.get("name", ""))
                line.ok, target = False, None
            if target is not None and line.customer_number and line.customer_number != target.number:
                plan.error(line.number, "number", _("This number belongs to another customer."), line.customer_number)
                line.ok = False
            if not line.ok:
                _check_alone(line, plan)
                continue
            key = ("pk", target.pk) if target is not None else (identity or ("row", line.number))
            if key in groups:
                _merge_into(groups[key], line, plan)
            else:
                groups[key] = Group(key=key, lines=[line], target=target)
        return list(groups.values())

    def _check_unique(self, groups: list["Group"], plan: Plan) -> None:
        """Credit codes and ID numbers stay unique: across the file and against every customer, visible or not."""
        for field_name in ("credit_code", "id_number"):
            claims: dict[str, Group] = {}
            for group in groups:
                value = group.lines[0].customer.get(field_name)
                if not value or (group.target and getattr(group.target, field_name) == value):
                    continue
                if value in claims:
                    message = _("Row %(row)s already has this value.") % {"row": claims[value].lines[0].number}
                    _fail(group, plan, field_name, message, value)
                else:
                    claims[value] = group
            taken: dict[str, int] = {}
            for values in chunks(claims):
                taken.update(Customer.objects.filter(**{f"{field_name}__in": values}).values_list(field_name, "pk"))
            for value, group in claims.items():
                if value in taken and (group.target is None or taken[value] != group.target.pk):
                    # The message full_clean gives for a duplicate, as the services would answer.
                    message = Customer().unique_error_message(Customer, (field_name,)).messages[0]
                    _fail(group, plan, field_name, message, value)

    def _build(self, group, ctx: ImportContext, plan: Plan, writes: "CustomerWrites", tags_now, can_change) -> None:
        if group.action == "error":
            return
        first = group.lines[0]
        data, tags = dict(first.customer), sorted(set(first.tags)) if first.tags is not None else None
        if group.target is None:
            if not data.get("kind"):  # not given: an ID number and no credit code means a person
                data["kind"] = PERSON if data.get("id_number") and not data.get("credit_code") else ORG
            if data.get("owner_id") is None:
                data["owner_id"] = ctx.default_owner_id
            customer = new_instance(Customer, {k: v for k, v in data.items() if k in services.CUSTOMER_FIELDS})
            customer.org_unit_id = ctx.unit_for(customer.owner_id)
            customer.created_by = ctx.actor
            customer.name_key = name_key(customer.name)
            if not _valid_customer(customer, set(data), first.number, plan):
                group.action = "error"
                return
            group.action, group.customer = "create", customer
            writes.new.append(customer)
            writes.branch_codes[id(customer)] = ctx.branch_code(customer.org_unit_id)
            if tags:
                writes.new_tags[id(customer)] = tags
            return
        customer = group.customer = group.target
        before = audit.snapshot(customer)
        for key, value in data.items():
            if key in services.CUSTOMER_FIELDS:
                setattr(customer, key, value)
        if "owner_id" in data:
            customer.org_unit_id = ctx.unit_for(customer.owner_id)
        if not _valid_customer(customer, set(data), first.number, plan):
            group.action = "error"
            return
        changes = audit.diff(before, audit.snapshot(customer))
        current = tags_now.get(customer.pk, [])
        if tags is not None and tags != current:
            changes["tags"] = [current, tags]
            writes.tag_updates[customer.pk] = tags
        if not changes:
            group.action = "unchanged"
            return
        if not can_change:
            _fail(group, plan, "name", _("You are not allowed to change existing customers."), customer.name)
            return
        if "name" in changes:
            customer.name_key = name_key(customer.name)
        group.action = "update"
        writes.updates.append((customer, changes, before["version"]))

    def apply(self, *, actor, plan: Plan) -> None:
        bulk.write_customers(actor=actor, writes=plan.payload)


_MODEL_NAMES = {"category_id": "category", "region_id": "region", "owner_id": "owner"}


def _valid_customer(customer: Customer, given: set[str], row: int, plan: Plan) -> bool:
    errors = errors_of(customer, {_MODEL_NAMES.get(key, key) for key in given}, CUSTOMER_UNCHECKED)
    for name, messages in errors.items():
        for message in messages:
            plan.error(row, name, message, getattr(customer, name, ""))
    return not errors


def _check_alone(line: Line, plan: Plan) -> None:
    """A row that cannot be imported as it is still gets all its field errors reported, not only the first."""
    flagged = {error.field for error in plan.errors if error.row == line.number}
    data = {k: v for k, v in line.customer.items() if k in services.CUSTOMER_FIELDS}
    customer = new_instance(Customer, data)
    given = {_MODEL_NAMES.get(key, key) for key in data} - {"name", "kind"}
    for name, messages in errors_of(customer, given, CUSTOMER_UNCHECKED | {"name", "kind"}).items():
        if name not in flagged:
            for message in messages:
                plan.error(line.number, name, message, getattr(customer, name, ""))
    if line.contact:
        contact = new_instance(Contact, line.contact)
        for name, messages in errors_of(contact, set(line.contact), CONTACT_UNCHECKED).items():
            key = line.sources.get(name, "contact_" + name)
            if key not in flagged:
                for message in messages:
                    plan.error(line.number, key, message, getattr(contact, name, ""))


def _fail(group, plan: Plan, field_name: str, message: str, value) -> None:
    plan.error(group.lines[0].number, field_name, message, value)
    group.action = "error"


def _identity(line: Line, match: list[str]) -> tuple[str, str] | None:
    for key in match:
        if key == "number" and line.customer_number:
            return ("number", line.customer_number)
        if key in ("credit_code", "id_number") and line.customer.get(key):
            return (key, line.customer[key])
        if key == "name" and line.customer.get("name"):
            return ("name", name_key(line.customer["name"]))
    return None


def _merge_into(group: Group, line: Line, plan: Plan) -> None:
    """A later row of the same customer: customer values must agree with the first row (or be left empty)."""
    first = group.lines[0]
    for key, value in line.customer.items():
        if key not in first.customer:
            first.customer[key] = value
        elif first.customer[key] != value:
            source = {"category_id": "category", "region_id": "region", "owner_id": "owner"}.get(key, key)
            message = _("Row %(row)s gives this customer another value.") % {"row": first.number}
            plan.error(line.number, source, message, value)
            line.ok = False
    if line.tags is not None and first.tags is None:
        first.tags = line.tags
    if line.ok:
        group.lines.append(line)


def _tags_of(customer_ids: set[int]) -> dict[int, list[str]]:
    through = Customer.tags.through
    tags: dict[int, list[str]] = {}
    for ids in chunks(customer_ids):
        for customer_id, tag in through.objects.filter(customer_id__in=ids).values_list("customer_id", "tag__name"):
            tags.setdefault(customer_id, []).append(tag)
    return {pk: sorted(names) for pk, names in tags.items()}


register(CustomerImporter())
register(ContactImporter())
