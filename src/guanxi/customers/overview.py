"""The built-in panels of the 360 view: profile, contacts, hierarchy, history."""

from functools import cache

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.labels import choice_labels
from guanxi.core.masking import changes_for, id_number_for, phone_for
from guanxi.core.models import AuditLog
from guanxi.core.names import full_name
from guanxi.customers.merge import change_label
from guanxi.customers.models import Contact, Customer
from guanxi.customers.panels import Panel, register

HISTORY_LIMIT = 20
MEMBERS_LIMIT = 50


def profile(*, user, customer: Customer) -> dict:
    return {
        "number": customer.number,
        "name": customer.name,
        "kind": customer.get_kind_display(),
        "category": customer.category.name if customer.category_id else None,
        "region": customer.region.name if customer.region_id else None,
        "area": customer.get_area_display() if customer.area else None,
        "address": customer.address,
        "credit_code": customer.credit_code,
        "id_number": id_number_for(user, customer.id_number) if customer.id_number else None,
        "stage": customer.get_stage_display(),
        "grade": customer.get_grade_display(),
        "vip": customer.vip,
        "sensitive": customer.sensitive,
        "tags": [tag.name for tag in customer.tags.all()],
        "owner": (customer.owner.get_full_name() or customer.owner.username) if customer.owner_id else None,
        "team": customer.org_unit.name if customer.org_unit_id else None,
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
    }


def contacts(*, user, customer: Customer) -> list[dict]:
    """The customer's contacts as values() rows of the columns shown, labels translated once per language: contact
    instances cost the 360 view more Python than their statement."""
    roles, channels = choice_labels(Contact.Role), choice_labels(Contact.Channel)
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "role": roles.get(c["role"], c["role"]) if c["role"] else "",
            "title": c["title"],
            "mobile": phone_for(user, c["mobile"]),
            "landline": phone_for(user, c["landline"]),
            "email": c["email"],
            "wechat": c["wechat"],
            "preferred_channel": channels.get(c["preferred_channel"], c["preferred_channel"])
            if c["preferred_channel"]
            else "",
            "opt_outs": [ch for ch in ("phone", "sms", "email", "wechat") if c[f"opt_out_{ch}"]],
            "primary": c["primary"],
            "version": c["version"],
        }
        for c in _contact_rows().filter(customer_id=customer.pk)
    ]


CONTACT_COLUMNS = (
    "id", "name", "role", "title", "mobile", "landline", "email", "wechat", "preferred_channel", "opt_out_phone",
    "opt_out_sms", "opt_out_email", "opt_out_wechat", "primary", "version",
)  # fmt: skip


@cache
def _contact_rows() -> QuerySet:
    """The contacts panel's rows in its order, built once (callers chain on it, never evaluate it)."""
    return Contact.objects.order_by("-primary", "name", "id").values(*CONTACT_COLUMNS)


def hierarchy(*, user, customer: Customer) -> dict:
    """Parent and members, each only if the user may see it (a group can span scopes)."""
    from guanxi.customers.selectors import customer_queryset

    visible = customer_queryset(user=user)
    parent = (
        visible.filter(pk=customer.parent_id).values("id", "number", "name").first() if customer.parent_id else None
    )
    members = list(
        visible.filter(parent_id=customer.pk).order_by("name", "id").values("id", "number", "name")[:MEMBERS_LIMIT]
    )
    return {"parent": parent, "members": members}


ACTION_LABELS = {
    "create": pgettext_lazy("audit action", "created"),
    "update": pgettext_lazy("audit action", "changed"),
    "archive": pgettext_lazy("audit action", "archived"),
    "restore": pgettext_lazy("audit action", "restored"),
    "transfer": pgettext_lazy("audit action", "transferred"),
    "tag": pgettext_lazy("audit action", "tagged"),
    "merge": pgettext_lazy("audit action", "merged"),
    "delete": pgettext_lazy("audit action", "deleted"),
}


def history(*, user, customer: Customer) -> list[dict]:
    """Latest changes, newest first; a creation is shown as one line, changes field by field with labels. Rows from
    values() with the actor's name columns (no log entry and user instances)."""
    entries = (
        AuditLog.objects.filter(object_type="customers.customer", object_id=str(customer.pk))
        .order_by("-id")
        .values("at", "action", "changes", "actor__username", "actor__first_name", "actor__last_name")[:HISTORY_LIMIT]
    )
    return [
        {
            "at": e["at"].isoformat(),
            "actor": full_name(e["actor__username"], e["actor__first_name"], e["actor__last_name"]),
            "action": e["action"],
            "action_label": str(ACTION_LABELS.get(e["action"], e["action"])),
            "changes": changes_for(user, e["changes"]),
            "fields": []
            if e["action"] == "create"
            else [
                {"field": name, "label": _field_label(name), "before": values[0], "after": values[1]}
                for name, values in changes_for(user, e["changes"]).items()
                if isinstance(values, list) and len(values) == 2
            ],
        }
        for e in entries
    ]


def _field_label(name: str) -> str:
    if label := change_label(name):  # keys of merge entries: moved records, merged_from …
        return label
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except Exception:  # a field of another app's change, or one since removed
        return name


register(Panel("profile", _("Profile"), profile, "customers/panels/profile.html", order=10))
register(Panel("contacts", _("Contacts"), contacts, "customers/panels/contacts.html", order=20))
register(Panel("hierarchy", _("Group hierarchy"), hierarchy, "customers/panels/hierarchy.html", order=30))
register(Panel("history", _("History"), history, "customers/panels/history.html", order=90))
