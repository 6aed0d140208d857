"""Contacts in imports: planned for new or existing customers (the customers import), or imported on their own
from vCard, CSV or XLSX to customers that exist (the contacts import)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit
from guanxi.core.bulk import new_instance
from guanxi.customers import bulk
from guanxi.customers.import_context import chunks, visible_customers
from guanxi.customers.import_rows import (
    CONTACT_IMPORT_FIELDS,
    CONTACT_UNCHECKED,
    PREVIEW_ROWS,
    Line,
    errors_of,
    read_contact,
)
from guanxi.customers.models import Contact, Customer
from guanxi.customers.normalize import name_key
from guanxi.customers.validators import normalize_credit_code
from guanxi.imports.registry import Importer, Plan, Progress
from guanxi.imports.values import text


class ContactPlanner:
    """Contacts of rows for customers new or existing: matched by mobile, else by name, within their customer."""

    def __init__(self, actor, plan: Plan, prefix: str, customer_ids: set[int]):
        self.actor, self.plan, self.prefix = actor, plan, prefix
        self.can_add = actor.has_perm("customers.add_contact")
        self.can_change = actor.has_perm("customers.change_contact")
        self.existing: dict[int, list[Contact]] = {}
        for ids in chunks(customer_ids):
            for contact in Contact.objects.filter(customer_id__in=ids).order_by("id"):
                self.existing.setdefault(contact.customer_id, []).append(contact)
        self.planned: dict[tuple, list[tuple[int, dict, Contact]]] = {}  # customer → (row, values, contact)
        self.created: list[tuple[Customer, Contact]] = []
        self.updated: list[tuple[Contact, dict, int]] = []
        self.unchanged = 0

    def summary(self) -> dict:
        return {
            "contacts_created": len(self.created),
            "contacts_updated": len(self.updated),
            "contacts_unchanged": self.unchanged,
        }

    def add(self, line: Line, customer: Customer) -> str:
        """Plan the contact of `line` for `customer` (an existing one, or a new one not saved yet)."""
        values = line.contact
        customer_id = customer.pk
        planned = self.planned.setdefault(("pk", customer_id) if customer_id else ("new", id(customer)), [])
        for row, earlier_values, _contact in planned:
            if _same_contact(earlier_values, values):
                if earlier_values != values:
                    self._error(line, "name", _("Row %(row)s has this contact with other values.") % {"row": row})
                    return "error"
                return "unchanged"
        existing = _find_contact(self.existing.get(customer_id, []) if customer_id else [], values)
        if existing is not None:
            before = audit.snapshot(existing)
            for key, value in values.items():
                setattr(existing, key, value)
            if not self._valid(line, existing):
                return "error"
            changes = audit.diff(before, audit.snapshot(existing))
            planned.append((line.number, values, existing))
            if not changes:
                self.unchanged += 1
                return "unchanged"
            if not self.can_change:
                self._error(line, "name", _("You are not allowed to change existing contacts."))
                return "error"
            self.updated.append((existing, changes, before["version"]))
            return "update"
        if not self.can_add:
            self._error(line, "name", _("You are not allowed to add contacts."))
            return "error"
        contact = new_instance(Contact, values)
        # The first contact of a customer is its primary one, as in contact_create.
        contact.primary = not planned and not (customer_id and self.existing.get(customer_id))
        if not self._valid(line, contact):
            return "error"
        planned.append((line.number, values, contact))
        self.created.append((customer, contact))
        return "create"

    def _valid(self, line: Line, contact: Contact) -> bool:
        errors = errors_of(contact, set(line.contact), CONTACT_UNCHECKED)
        for name, messages in errors.items():
            key = line.sources.get(name, self.prefix + name)
            for message in messages:
                self.plan.error(line.number, key, message, getattr(contact, name, ""))
        return not errors

    def _error(self, line: Line, name: str, message: str) -> None:
        self.plan.error(line.number, self.prefix + name, message, line.contact.get(name, ""))


def _same_contact(a: dict, b: dict) -> bool:
    if a.get("mobile") and b.get("mobile"):
        return a["mobile"] == b["mobile"]
    return a.get("name") == b.get("name")


def _find_contact(contacts: list[Contact], values: dict) -> Contact | None:
    if values.get("mobile"):
        for contact in contacts:
            if contact.mobile == values["mobile"]:
                return contact
    named = [contact for contact in contacts if contact.name == values.get("name")]
    if len(named) == 1 and (not values.get("mobile") or not named[0].mobile):
        return named[0]
    return None


class ContactImporter(Importer):
    """Contacts of existing customers, from vCard (3.0 and 4.0), CSV or XLSX; the customer is named by its number,
    its credit code or its name (vCard: X-GUANXI-CUSTOMER, else ORG)."""

    kind = "contacts"
    label = gettext_lazy("Contacts")
    permission = "customers.add_contact"
    formats = ("csv", "xlsx", "vcf")
    fields = CONTACT_IMPORT_FIELDS

    def missing_fields(self, mapped: set[str]) -> list[str]:
        labels = {f.key: str(f.label) for f in self.fields}
        missing = [] if "name" in mapped else [labels["name"]]
        if not mapped & {"customer_number", "customer_credit_code", "customer_name"}:
            missing.append(labels["customer_name"])
        return missing

    def plan(self, *, actor, rows, options: dict, progress: Progress) -> Plan:
        plan = Plan()
        lines: list[Line] = []
        shown: dict[int, dict] = {}
        for row in rows:
            if len(shown) < PREVIEW_ROWS:
                shown[row.number] = {key: text(value) for key, value in row.values.items() if text(value)}
            line = Line(row.number)
            line.customer = {key: text(row.values.get(key)) for key in ("customer_number", "customer_credit_code")}
            line.customer["customer_number"] = line.customer["customer_number"].upper()
            line.customer["customer_credit_code"] = normalize_credit_code(line.customer["customer_credit_code"])
            line.customer["customer_name"] = name_key(text(row.values.get("customer_name")))
            line.sources["customer_name"] = text(row.values.get("customer_name"))  # as written, for messages
            read_contact(row, "", line, plan)
            if not line.contact and line.ok:
                plan.error(row.number, "name", _("Enter the contact's name."))
                line.ok = False
            lines.append(line)
            if len(lines) % 1000 == 0:
                progress(len(lines) // 2)
        plan.total = len(lines)
        found = visible_customers(
            actor,
            [
                (kind, line.customer[source])
                for line in lines
                for kind, source in (
                    ("number", "customer_number"),
                    ("credit_code", "customer_credit_code"),
                    ("name", "customer_name"),
                )
                if line.customer[source]
            ],
        )
        customers: dict[int, Customer] = {}
        for line in lines:
            customer = _customer_of(line, found, plan) if line.ok else None
            if customer is not None:
                customers[line.number] = customer
        planner = ContactPlanner(actor, plan, "", {customer.pk for customer in customers.values()})
        actions: dict[int, str] = {}
        for done, line in enumerate(lines, start=1):
            if line.number in customers:
                actions[line.number] = planner.add(line, customers[line.number])
            if done % 1000 == 0:
                progress((plan.total + done) // 2)
        plan.created, plan.updated, plan.unchanged = len(planner.created), len(planner.updated), planner.unchanged
        plan.preview = [
            {"row": number, "action": actions.get(number, "error"), "values": values}
            for number, values in shown.items()
        ]
        plan.payload = planner
        return plan

    def apply(self, *, actor, plan: Plan) -> None:
        bulk.write_contacts(actor=actor, planner=plan.payload)


def _customer_of(line: Line, found: dict, plan: Plan) -> Customer | None:
    """The visible customer a contact row names: by number, else credit code, else name."""
    for kind, source in (
        ("number", "customer_number"),
        ("credit_code", "customer_credit_code"),
        ("name", "customer_name"),
    ):
        value = line.customer[source]
        if not value:
            continue
        customer = found.get((kind, value))
        if isinstance(customer, Customer):
            return customer
        message = customer if isinstance(customer, str) else _("No such customer in your scope.")
        plan.error(line.number, source, message, line.sources.get(source, value))
        return None
    plan.error(line.number, "customer_name", _("Name the contact's customer: its number, credit code or name."))
    return None
