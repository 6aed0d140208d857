"""Every write of customers and contacts: validated, scoped, versioned and audited, each in one transaction."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import StaleVersion
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.roles import ACCOUNT_MANAGER, ScopeLevel, user_roles
from guanxi.core.scope import record_scope
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.core.versioning import save_if_version
from guanxi.customers import selectors
from guanxi.customers.models import Category, Contact, Customer, Region, Tag
from guanxi.customers.normalize import name_key
from guanxi.customers.numbering import reserve_customer_numbers, series_code
from guanxi.customers.transfers import run_transfer_handlers
from guanxi.customers.validators import normalize_credit_code, normalize_mobile

# The customer fields clients write (API names), in the order forms and the merge page show them.
CUSTOMER_FIELDS = (
    "name",
    "kind",
    "category_id",
    "region_id",
    "area",
    "address",
    "credit_code",
    "id_number",
    "parent_id",
    "stage",
    "grade",
    "vip",
    "sensitive",
    "owner_id",
)
CONTACT_FIELDS = {
    "name",
    "role",
    "title",
    "mobile",
    "landline",
    "email",
    "wechat",
    "birthday",
    "preferred_channel",
    "opt_out_phone",
    "opt_out_sms",
    "opt_out_email",
    "opt_out_wechat",
    "primary",
}
# Checked by _check_references (existence and the actor's scope: stricter than full_clean's existence query) or set
# by the services themselves (number from the branch sequence, owning unit, creator): full_clean leaves them alone.
SERVER_CHECKED = ["category", "region", "parent", "owner", "org_unit", "created_by", "merged_into", "number"]
UNIQUE_FIELDS = ("credit_code", "id_number")
# Model field → the name clients send, so every error names the field the client knows.
API_NAMES = {"category": "category_id", "region": "region_id", "parent": "parent_id", "owner": "owner_id"}


def customer_create(*, actor, data: dict) -> Customer:
    """A new customer. Only name and kind are required; the owner defaults to an account-manager creator."""
    require(actor, "customers.add_customer")
    data = _customer_input(data)
    tags = data.pop("tags", None)
    if data.get("owner_id") is None and ACCOUNT_MANAGER in user_roles(actor):
        data["owner_id"] = actor.pk
    with transaction.atomic():
        customer = Customer(**{key: value for key, value in data.items() if key in CUSTOMER_FIELDS})
        _check_references(actor, customer, data)
        customer.org_unit = _owning_unit(actor, customer.owner_id)
        customer.created_by = actor
        _full_clean(customer, exclude=SERVER_CHECKED)
        customer.number = next_customer_number(customer.org_unit)
        _save_unique(customer)
        if tags is not None:
            customer.tags.set(_tags(tags))
        audit.record(actor=actor, action="create", instance=customer, changes=_created(customer, tags))
    return customer


def customer_update(*, actor, customer_id: int, version: int, data: dict) -> Customer:
    """Apply `data` if the customer is still at `version`; otherwise StaleVersion and nothing changes."""
    require(actor, "customers.change_customer")
    data = _customer_input(data)
    tags = data.pop("tags", None)
    with transaction.atomic():
        customer = selectors.customer_get(user=actor, customer_id=customer_id)
        if customer.version != version:
            raise StaleVersion(customer.version)
        if "owner_id" in data and data["owner_id"] != customer.owner_id:
            # A new owner is a transfer (客户移交): an account manager cannot hand away, or orphan, their customer.
            require(actor, "customers.transfer_customer")
        before = audit.snapshot(customer)
        tags_before = sorted(tag.name for tag in customer.tags.all())
        fields = [key for key in data if key in CUSTOMER_FIELDS]
        for key in fields:
            setattr(customer, key, data[key])
        _check_references(actor, customer, data)
        if "owner_id" in fields:
            customer.org_unit = _owning_unit(actor, customer.owner_id)
        # The unchanged unique identifiers were unique when stored; checking them again costs a query each.
        unchanged = [name for name in UNIQUE_FIELDS if name not in fields]
        _full_clean(customer, exclude=[*SERVER_CHECKED, *unchanged])
        changes = audit.diff(before, audit.snapshot(customer))
        if tags is not None and sorted(set(tags)) != tags_before:
            changes["tags"] = [tags_before, sorted(set(tags))]
        if not changes:
            return customer
        fields = [f for f in changes if f != "tags"]
        if "name" in changes:
            customer.name_key = name_key(customer.name)
            fields.append("name_key")
        save_if_version(customer, version, fields, api_names=API_NAMES)
        if "tags" in changes:
            customer.tags.set(_tags(tags))
        audit.record(actor=actor, action="update", instance=customer, changes=changes)
    return customer


def customer_archive(*, actor, customer_id: int, version: int | None = None) -> Customer:
    """Soft delete (归档): the customer leaves the lists but keeps its history and can be restored."""
    return _set_archived(actor, customer_id, version, archive=True)


def customer_restore(*, actor, customer_id: int, version: int | None = None) -> Customer:
    return _set_archived(actor, customer_id, version, archive=False)


def customer_transfer(
    *, actor, from_user_id: int | None, to_user_id: int, customer_ids: list[int] | None = None
) -> int:
    """Hand customers to another manager (A5): all of `from_user_id`'s (a departing manager), or the listed ones
    (from `from_user_id`, or from whoever owns them when it is None — the list page's bulk action).
    Owner and owning team change, each customer with an audit entry; other apps' open records follow through the
    handlers of customers.transfers, in the same transaction. Returns how many moved."""
    require(actor, "customers.transfer_customer")
    if from_user_id is None and customer_ids is None:
        raise ValidationError({"from_user_id": _("This field is required.")})
    target = users_in_scope(user=actor).filter(pk=to_user_id).first()
    if target is None:
        raise ValidationError({"to_user_id": _("No such user in your scope.")})
    if from_user_id is not None and not get_user_model().objects.filter(pk=from_user_id).exists():
        raise ValidationError({"from_user_id": _("No such user.")})
    if from_user_id == to_user_id:
        raise ValidationError({"to_user_id": _("The new owner must differ from the current owner.")})
    new_unit = org_unit_of(target)
    with transaction.atomic():
        customers = selectors.customer_queryset(user=actor)
        if from_user_id is not None:
            customers = customers.filter(owner_id=from_user_id)
        if customer_ids is not None:
            customers = customers.filter(pk__in=customer_ids)
        # Lock order (activities.last_visits.lock_customers): the customers in ascending id, then the handlers' rows.
        moving = list(
            customers.select_for_update().only("id", "number", "name", "owner_id", "org_unit_id").order_by("pk")
        )
        if customer_ids is not None and len(moving) != len(set(customer_ids)):
            raise ValidationError(
                {"customer_ids": _("Some customers are not owned by that user or not visible to you.")}
            )
        moving = [c for c in moving if c.owner_id != to_user_id]
        Customer.objects.filter(pk__in=[c.pk for c in moving]).update(
            owner_id=to_user_id, org_unit=new_unit, version=F("version") + 1, updated_at=timezone.now()
        )
        new_unit_id = new_unit.pk if new_unit else None
        audit.record_many(
            actor=actor,
            action="transfer",
            entries=[
                (c, {"owner": [c.owner_id, to_user_id], "org_unit": [c.org_unit_id, new_unit_id]}) for c in moving
            ],
        )
        run_transfer_handlers(
            actor=actor,
            previous_owners={c.pk: c.owner_id for c in moving},
            to_user_id=to_user_id,
            to_unit_id=new_unit_id,
        )
    return len(moving)


def next_customer_number(unit: OrgUnit | None) -> str:
    """C + branch code + a gap-free sequence per branch. Call inside the transaction that saves the customer."""
    return reserve_customer_numbers(series_code(unit), 1)[0]


def contact_create(*, actor, customer_id: int, data: dict) -> Contact:
    require(actor, "customers.add_contact")
    data = _contact_input(data)
    with transaction.atomic():
        customer = selectors.customer_get(user=actor, customer_id=customer_id)
        contact = Contact(customer=customer, **{k: v for k, v in data.items() if k in CONTACT_FIELDS})
        if not customer.contacts.exists():
            contact.primary = True  # the first contact is the primary one until someone says otherwise
        _full_clean(contact, exclude=["customer", "primary"])
        if contact.primary:
            Contact.objects.filter(customer=customer, primary=True).update(primary=False)
        contact.save()
        audit.record(actor=actor, action="create", instance=contact, changes=_created(contact))
    return contact


def contact_update(*, actor, contact_id: int, version: int, data: dict) -> Contact:
    require(actor, "customers.change_contact")
    data = _contact_input(data)
    with transaction.atomic():
        contact = selectors.contact_get(user=actor, contact_id=contact_id)
        if contact.version != version:
            raise StaleVersion(contact.version)
        before = audit.snapshot(contact)
        for key in (k for k in data if k in CONTACT_FIELDS):
            setattr(contact, key, data[key])
        _full_clean(contact, exclude=["customer", "primary"])
        changes = audit.diff(before, audit.snapshot(contact))
        if not changes:
            return contact
        if changes.get("primary") == [False, True]:
            Contact.objects.filter(customer_id=contact.customer_id, primary=True).update(primary=False)
        successor = None
        if changes.get("primary") == [True, False]:
            successor = _next_primary(contact.customer_id, without=contact.pk)
            if successor is None:
                raise ValidationError({"primary": _("The only contact of a customer is its primary contact.")})
        save_if_version(contact, version, list(changes), api_names=API_NAMES)
        audit.record(actor=actor, action="update", instance=contact, changes=changes)
        if successor is not None:
            _make_primary(actor, successor)
    return contact


def contact_delete(*, actor, contact_id: int) -> None:
    require(actor, "customers.delete_contact")
    with transaction.atomic():
        contact = selectors.contact_get(user=actor, contact_id=contact_id)
        audit.record(actor=actor, action="delete", instance=contact, changes=_created(contact))
        contact.delete()
        if contact.primary:  # a customer with contacts always has a primary one: the longest-standing takes over
            successor = _next_primary(contact.customer_id, without=contact_id)
            if successor is not None:
                _make_primary(actor, successor)


def _next_primary(customer_id: int, *, without: int) -> Contact | None:
    return Contact.objects.filter(customer_id=customer_id).exclude(pk=without).order_by("created_at", "pk").first()


def _make_primary(actor, contact: Contact) -> None:
    Contact.objects.filter(pk=contact.pk).update(primary=True, version=F("version") + 1, updated_at=timezone.now())
    audit.record(actor=actor, action="update", instance=contact, changes={"primary": [False, True]})


# --- helpers -------------------------------------------------------------------------------------------------


def _customer_input(data: dict) -> dict:
    data = dict(data)
    for key in ("credit_code", "id_number"):
        if key in data:
            data[key] = normalize_credit_code(data[key]) or None
    for key in ("name", "address"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    for key in ("area", "address"):  # text columns: null from the client means empty, not NULL
        if key in data and data[key] is None:
            data[key] = ""
    return data


def _contact_input(data: dict) -> dict:
    data = dict(data)
    if "primary" in data and data["primary"] is None:  # full_clean skips `primary`: check it here
        raise ValidationError({"primary": _("This field cannot be null.")})
    if data.get("mobile"):
        data["mobile"] = normalize_mobile(data["mobile"])
    for key in ("name", "title", "landline", "email", "wechat", "mobile", "role", "preferred_channel"):
        if key in data:
            data[key] = (data[key] or "").strip()
    return data


def _check_references(actor, customer: Customer, data: dict) -> None:
    """Referenced rows must exist and, for customers and owners, be within the actor's scope."""
    errors = {}
    if data.get("category_id") is not None and not Category.objects.filter(pk=customer.category_id).exists():
        errors["category_id"] = _("No such category.")
    if data.get("region_id") is not None and not Region.objects.filter(pk=customer.region_id).exists():
        errors["region_id"] = _("No such region.")
    parent_set = "parent_id" in data and customer.parent_id is not None
    if parent_set and not selectors.customer_queryset(user=actor).filter(pk=customer.parent_id).exists():
        errors["parent_id"] = _("No such customer.")
    owner_set = "owner_id" in data and customer.owner_id is not None
    if owner_set and not _owner_in_scope(actor, customer.owner_id):
        errors["owner_id"] = _("No such user in your scope.")
    if errors:
        raise ValidationError(errors)
    if customer.sensitive and not record_scope(actor).sees_sensitive:
        raise PermissionDenied(_("Only users allowed to handle sensitive customers can mark a customer sensitive."))


def _owner_in_scope(actor, owner_id: int) -> bool:
    if owner_id == actor.pk and actor.is_active:
        # Every scope holds its own user: OWN is the actor, ALL everyone, the unit scopes start at the actor's unit.
        scope = record_scope(actor)
        unit = org_unit_of(actor)
        if scope.level in (ScopeLevel.OWN, ScopeLevel.ALL) or (unit is not None and unit.pk in scope.unit_ids):
            return True
    return users_in_scope(user=actor).filter(pk=owner_id).exists()


def _owning_unit(actor, owner_id: int | None) -> OrgUnit | None:
    """A customer belongs to its owner's unit; without an owner, to the unit of whoever assigns it."""
    if owner_id == actor.pk:
        return org_unit_of(actor)
    if owner_id:
        owner = get_user_model().objects.select_related("profile__org_unit").filter(pk=owner_id).first()
        unit = org_unit_of(owner) if owner else None
        if unit:
            return unit
    return org_unit_of(actor)


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationError({API_NAMES.get(k, k): v for k, v in exc.message_dict.items()}) from exc


def _save_unique(customer: Customer) -> None:
    """Insert, turning a lost race on a unique identifier into the same error full_clean gives."""
    try:
        # No savepoint: a failure is raised, so the caller's transaction is rolled back anyway.
        with transaction.atomic(savepoint=False):
            customer.save()
    except IntegrityError as exc:
        field = "credit_code" if "credit_code" in str(exc) else "id_number" if "id_number" in str(exc) else "number"
        raise ValidationError({field: _("Another customer already has this value.")}) from exc


def _set_archived(actor, customer_id: int, version: int | None, *, archive: bool) -> Customer:
    require(actor, "customers.delete_customer")
    with transaction.atomic():
        customer = selectors.customer_get(user=actor, customer_id=customer_id)
        read_version = customer.version if version is None else version
        if customer.version != read_version:
            raise StaleVersion(customer.version)
        if customer.archived == archive:
            return customer
        before = customer.archived_at
        customer.archived_at = timezone.now() if archive else None
        save_if_version(customer, read_version, ["archived_at"], api_names=API_NAMES)
        audit.record(
            actor=actor,
            action="archive" if archive else "restore",
            instance=customer,
            changes={"archived_at": [audit.to_json(before), audit.to_json(customer.archived_at)]},
        )
    return customer


def _tags(names: list[str]) -> list[Tag]:
    names = sorted({name.strip() for name in names if name and name.strip()})
    for name in names:
        if len(name) > 50:
            raise ValidationError({"tags": _("A tag has at most 50 characters.")})
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names))


def _created(instance, tags: list[str] | None = None) -> dict:
    changes = {
        name: [None, value] for name, value in audit.snapshot(instance).items() if value not in (None, "", False)
    }
    if tags:
        changes["tags"] = [None, sorted(set(tags))]
    return changes


def customers_tag(*, actor, customer_ids: list[int], tag: str) -> int:
    """Add one tag to several customers (bulk action of the list). Returns how many got it."""
    require(actor, "customers.change_customer")
    with transaction.atomic():
        (tag_obj,) = _tags([tag]) or [None]
        if tag_obj is None:
            raise ValidationError({"tag": _("This field cannot be blank.")})
        customers = list(selectors.customer_queryset(user=actor).filter(pk__in=customer_ids).exclude(tags=tag_obj))
        Customer.tags.through.objects.bulk_create(
            [Customer.tags.through(customer_id=c.pk, tag_id=tag_obj.pk) for c in customers], ignore_conflicts=True
        )
        audit.record_many(actor=actor, action="tag", entries=[(c, {"tags": [None, tag_obj.name]}) for c in customers])
    return len(customers)
