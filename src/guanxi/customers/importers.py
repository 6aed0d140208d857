"""Importers of customers (with their contacts) and of contacts, registered with guanxi.imports.

plan() checks every row with the rules the services apply — the same input normalisation, the models' field
validators and clean(), references and uniqueness looked up in bulk instead of per row — and writes nothing.
apply() writes the plan in bulk inside the import's one transaction (see customers.bulk).
"""

from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit
from guanxi.core.bulk import new_instance
from guanxi.customers import bulk, selectors, services
from guanxi.customers.import_context import ImportContext
from guanxi.customers.models import Contact, Customer
from guanxi.customers.normalize import name_key
from guanxi.customers.validators import MOBILE_RE, normalize_credit_code, normalize_mobile
from guanxi.imports.registry import Field, Importer, Plan, Progress, Row, register
from guanxi.imports.values import BadValue, a_date, boolean, choice, split_list, synonyms_of, text

PREVIEW_ROWS = 20
CHUNK = 500  # ids per IN (…) lookup: well under SQLite's variable limit
MATCH_KEYS = ("number", "credit_code", "id_number", "name")
ORG, PERSON = Customer.Kind.ORGANISATION, Customer.Kind.INDIVIDUAL

# Fields the model validates with a query per row (references) or that the commit fills in: checked in bulk instead.
CUSTOMER_UNCHECKED = {"number", "category", "region", "owner", "org_unit", "created_by", "parent", "merged_into"}
CONTACT_UNCHECKED = {"customer", "primary"}  # as in contact_create / contact_update


def _contact_fields(prefix: str, name_aliases: tuple[str, ...]) -> tuple[Field, ...]:
    def label(text_):
        return format_lazy("{} · {}", gettext_lazy("contact"), text_) if prefix else text_

    return (
        Field(f"{prefix}name", gettext_lazy("contact") if prefix else gettext_lazy("name"), name_aliases),
        Field(
            f"{prefix}mobile",
            label(gettext_lazy("mobile")),
            ("手机", "手机号", "手机号码", "移动电话", "联系人手机", "mobile", "cell", "mobile phone", "TEL;CELL"),
        ),
        Field(
            f"{prefix}phone",
            label(gettext_lazy("phone")),
            ("电话", "联系电话", "联系方式", "电话号码", "phone", "telephone", "tel"),
            help=gettext_lazy("A mobile number goes to mobile, anything else to landline."),
        ),
        Field(
            f"{prefix}landline", label(gettext_lazy("landline")), ("座机", "固定电话", "固话", "办公电话", "landline")
        ),
        Field(
            f"{prefix}email", label(gettext_lazy("email")), ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail")
        ),
        Field(f"{prefix}title", label(gettext_lazy("job title")), ("职务", "职位", "title", "job title")),
        Field(f"{prefix}role", label(gettext_lazy("role")), ("联系人角色", "角色", "role")),
        Field(f"{prefix}wechat", label(gettext_lazy("WeChat")), ("微信", "微信号", "wechat", "X-WECHAT")),
        Field(f"{prefix}birthday", label(gettext_lazy("birthday")), ("生日", "出生日期", "birthday", "BDAY")),
    )


CUSTOMER_FIELDS = (
    Field(
        "number",
        gettext_lazy("customer number"),
        ("客户编号", "客户号", "客户代码", "编号", "customer no", "number"),
        help=gettext_lazy("Only to find an existing customer; new customers get their number when committed."),
    ),
    Field(
        "name",
        gettext_lazy("name"),
        ("客户名称", "客户名", "名称", "单位名称", "企业名称", "公司名称", "户名", "姓名", "customer name", "company"),
    ),
    Field("kind", gettext_lazy("kind"), ("客户类型", "类型", "客户性质", "type", "customer type")),
    Field(
        "credit_code",
        gettext_lazy("unified social credit code"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "credit code", "uscc"),
    ),
    Field(
        "id_number", gettext_lazy("ID number"), ("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "id card")
    ),
    Field("category", gettext_lazy("category"), ("客户分类", "分类", "类别", "客户类别", "行业分类")),
    Field("region", gettext_lazy("region"), ("区域", "地区", "所属区域", "所在地区", "行政区划", "区县")),
    Field("area", gettext_lazy("urban/rural"), ("城乡", "城乡类别", "城乡属性", "area")),
    Field("address", gettext_lazy("address"), ("地址", "详细地址", "通讯地址", "联系地址", "单位地址")),
    Field("stage", gettext_lazy("lifecycle stage"), ("生命周期阶段", "阶段", "客户阶段", "客户状态", "stage")),
    Field("grade", gettext_lazy("grade"), ("等级", "客户等级", "级别", "客户级别")),
    Field("vip", "VIP", ("是否vip", "vip客户")),
    Field("tags", gettext_lazy("tags"), ("标签", "客户标签", "tag")),
    Field("owner", gettext_lazy("owner"), ("客户经理", "负责人", "归属人", "所属客户经理", "account manager")),
    *_contact_fields("contact_", ("联系人", "联系人姓名", "联系人名称", "contact name")),
)

CONTACT_IMPORT_FIELDS = (
    Field("customer_number", gettext_lazy("customer number"), ("客户编号", "客户号", "编号", "X-GUANXI-CUSTOMER")),
    Field(
        "customer_credit_code",
        gettext_lazy("unified social credit code"),
        ("统一社会信用代码", "社会信用代码", "信用代码", "credit code"),
    ),
    Field(
        "customer_name",
        gettext_lazy("customer"),
        ("客户名称", "客户", "单位", "单位名称", "公司", "公司名称", "企业名称", "customer name", "company", "ORG"),
    ),
    *_contact_fields("", ("姓名", "联系人", "联系人姓名", "名字", "contact", "FN")),
)


@cache
def _synonyms() -> dict[str, dict[str, str]]:
    """Choice values users write, in Chinese or English, per field (built once, after translations are loaded)."""
    return {
        "kind": synonyms_of(
            Customer.Kind,
            {
                **dict.fromkeys(("单位", "企业", "公司", "机构", "组织", "法人", "非居民", "org", "company"), ORG),
                **dict.fromkeys(("个人", "居民", "自然人", "person", "personal"), PERSON),
            },
        ),
        "area": synonyms_of(Customer.Area, {"城镇": "urban", "城市": "urban", "市区": "urban", "乡村": "rural"}),
        "stage": synonyms_of(Customer.Stage, {"潜在客户": "potential", "流失": "lost", "活跃": "active"}),
        "grade": synonyms_of(
            Customer.Grade,
            {"重点": "key", "重要": "key", "a": "key", "潜力": "potential", "b": "potential", "一般": "general"}
            | {"普通": "general", "c": "general"},
        ),
        "role": synonyms_of(Contact.Role, {"决策人": "decision_maker", "财务": "finance", "采购": "procurement"}),
    }


# --- reading rows -----------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One row, read: customer values as the services take them, the contact values, where each came from."""

    number: int
    customer: dict = field(default_factory=dict)
    tags: list[str] | None = None
    contact: dict = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # model field → import field key, to name errors
    customer_number: str = ""
    ok: bool = True


def _read_customer(row: Row, ctx: ImportContext, plan: Plan) -> Line:
    line = Line(row.number)
    synonyms = _synonyms()
    parsers = {
        "name": text,
        "kind": lambda v: choice(v, synonyms["kind"]),
        "credit_code": text,
        "id_number": text,
        "category": ctx.category,
        "region": ctx.region,
        "area": lambda v: choice(v, synonyms["area"]),
        "address": text,
        "stage": lambda v: choice(v, synonyms["stage"]),
        "grade": lambda v: choice(v, synonyms["grade"]),
        "vip": boolean,
        "owner": ctx.owner,
    }
    targets = {"category": "category_id", "region": "region_id", "owner": "owner_id"}
    for key, raw in row.values.items():
        if raw is None or text(raw) == "":
            continue
        try:
            if key == "number":
                line.customer_number = text(raw).upper()
            elif key == "tags":
                line.tags = split_list(raw)
                if any(len(tag) > 50 for tag in line.tags):
                    raise BadValue(_("A tag has at most 50 characters."))
            elif key in parsers:
                line.customer[targets.get(key, key)] = parsers[key](raw)
        except BadValue as exc:
            plan.error(row.number, key, exc, raw)
            line.ok = False
    line.customer = services._customer_input(line.customer)  # the services' own normalisation
    if line.customer.get("credit_code") is None:
        line.customer.pop("credit_code", None)
    if line.customer.get("id_number") is None:
        line.customer.pop("id_number", None)
    _read_contact(row, "contact_", line, plan)
    return line


def _read_contact(row: Row, prefix: str, line: Line, plan: Plan) -> None:
    synonyms = _synonyms()
    values: dict = {}
    for name in ("name", "mobile", "phone", "landline", "email", "title", "role", "wechat", "birthday"):
        key = prefix + name
        raw = row.values.get(key)
        if raw is None or text(raw) == "":
            continue
        try:
            if name == "role":
                values["role"] = choice(raw, synonyms["role"])
            elif name == "birthday":
                values["birthday"] = a_date(raw)
            elif name == "phone":  # one "phone" column: mobiles go to mobile, the rest to landline
                number = normalize_mobile(text(raw))
                target = "mobile" if MOBILE_RE.match(number) and "mobile" not in values else "landline"
                if target not in values:
                    values[target] = number if target == "mobile" else text(raw)
                    line.sources[target] = key
            else:
                values[name] = text(raw)
                line.sources[name] = key
        except BadValue as exc:
            plan.error(row.number, key, exc, raw)
            line.ok = False
    if values and not values.get("name"):
        plan.error(row.number, prefix + "name", _("Enter the contact's name."))
        line.ok = False
    if values:
        line.contact = services._contact_input(values)
        line.sources.setdefault("name", prefix + "name")
        for name in ("role", "birthday", "email", "title", "wechat"):
            line.sources.setdefault(name, prefix + name)


def _errors_of(instance, given: set[str], unchecked: set[str]) -> dict[str, list[str]]:
    """The model's own checks (field validators, clean()) of the fields a row sets and the required ones, as
    {field: messages}. Fields left at their defaults are valid by construction; references were looked up in bulk."""
    exclude = _field_names(type(instance)) - ((given | _required(type(instance))) - unchecked)
    try:
        instance.clean_fields(exclude=exclude)
        instance.clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


@cache
def _field_names(model) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.concrete_fields)


@cache
def _required(model) -> frozenset[str]:
    """Fields that must have a value and have no default: the ones a row can leave invalid by leaving them out."""
    return frozenset(f.name for f in model._meta.concrete_fields if not f.blank and f.editable and not f.has_default())


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# --- contacts, shared by both importers ---------------------------------------------------------------------------


class ContactPlanner:
    """Contacts of rows for customers new or existing: matched by mobile, else by name, within their customer."""

    def __init__(self, actor, plan: Plan, prefix: str, customer_ids: set[int]):
        self.actor, self.plan, self.prefix = actor, plan, prefix
        self.can_add = actor.has_perm("customers.add_contact")
        self.can_change = actor.has_perm("customers.change_contact")
        self.existing: dict[int, list[Contact]] = {}
        for ids in _chunks(customer_ids):
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
        errors = _errors_of(contact, set(line.contact), CONTACT_UNCHECKED)
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


# --- customers ------------------------------------------------------------------------------------------------------


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
            lines.append(_read_customer(row, ctx, plan))
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
        found = _existing(actor, [identity for identity in identities.values() if identity])
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
            for values in _chunks(claims):
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
    errors = _errors_of(customer, {_MODEL_NAMES.get(key, key) for key in given}, CUSTOMER_UNCHECKED)
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
    for name, messages in _errors_of(customer, given, CUSTOMER_UNCHECKED | {"name", "kind"}).items():
        if name not in flagged:
            for message in messages:
                plan.error(line.number, name, message, getattr(customer, name, ""))
    if line.contact:
        contact = new_instance(Contact, line.contact)
        for name, messages in _errors_of(contact, set(line.contact), CONTACT_UNCHECKED).items():
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


def _existing(actor, identities: list[tuple[str, str]]) -> dict[tuple[str, str], Customer | str]:
    """Visible customers by identifier; for a name shared by several customers, the message saying so."""
    visible = selectors.customer_queryset(user=actor)
    found: dict[tuple[str, str], Customer | str] = {}
    wanted: dict[str, set[str]] = {}
    for kind, value in identities:
        wanted.setdefault(kind, set()).add(value)
    survivors: dict[tuple[str, str], int] = {}
    for values in _chunks(wanted.get("number", ())):
        for customer in visible.filter(number__in=values):
            if customer.merged_into_id:  # a merged customer's number leads to the survivor
                survivors[("number", customer.number)] = customer.merged_into_id
            else:
                found[("number", customer.number)] = customer
    if survivors:
        alive = visible.in_bulk(set(survivors.values()))
        found.update({key: alive[pk] for key, pk in survivors.items() if pk in alive})
    live = visible.filter(merged_into__isnull=True)
    for key in ("credit_code", "id_number"):
        for values in _chunks(wanted.get(key, ())):
            found.update({(key, getattr(c, key)): c for c in live.filter(**{f"{key}__in": values})})
    for values in _chunks(wanted.get("name", ())):
        for customer in live.filter(name_key__in=values).order_by("id"):
            key = ("name", customer.name_key)
            if key in found:
                found[key] = _("Several customers have this name; add a credit code or a customer number.")
            else:
                found[key] = customer
    return found


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
    for ids in _chunks(customer_ids):
        for customer_id, tag in through.objects.filter(customer_id__in=ids).values_list("customer_id", "tag__name"):
            tags.setdefault(customer_id, []).append(tag)
    return {pk: sorted(names) for pk, names in tags.items()}


# --- contacts on their own ------------------------------------------------------------------------------------------


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
            _read_contact(row, "", line, plan)
            if not line.contact and line.ok:
                plan.error(row.number, "name", _("Enter the contact's name."))
                line.ok = False
            lines.append(line)
            if len(lines) % 1000 == 0:
                progress(len(lines) // 2)
        plan.total = len(lines)
        found = _existing(
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


register(CustomerImporter())
register(ContactImporter())
