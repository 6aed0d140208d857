"""What an import reads: the fields of the customers and contacts imports, the Chinese and English values they
understand, and each row read and checked with the models' own validators."""

from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers import services
from guanxi.customers.import_context import ImportContext
from guanxi.customers.models import Contact, Customer
from guanxi.customers.validators import MOBILE_RE, normalize_mobile
from guanxi.imports.registry import Field, Plan, Row
from guanxi.imports.values import BadValue, a_date, boolean, choice, split_list, synonyms_of, text

PREVIEW_ROWS = 20
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


def read_customer(row: Row, ctx: ImportContext, plan: Plan) -> Line:
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
    read_contact(row, "contact_", line, plan)
    return line


def read_contact(row: Row, prefix: str, line: Line, plan: Plan) -> None:
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


def errors_of(instance, given: set[str], unchecked: set[str]) -> dict[str, list[str]]:
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
