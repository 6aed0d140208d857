"""One-click reply templates (话术模板): who may see and edit them, and how their merge fields are filled in.

A template without a team is offered to everyone who works on tickets; one with a team to that team, the units below
it and whoever's record scope holds the team (its lead, the branch manager). Leads and managers
(service.manage_ticket) write the templates of teams in their scope; global ones need service.configure_service.

Merge fields are `{name}` with a name of MERGE_FIELDS; anything else in braces is refused when the template is saved,
so a rendered reply never shows a half-filled placeholder.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit
from guanxi.core.models import OrgUnit
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.roles import ScopeLevel
from guanxi.core.scope import record_scope
from guanxi.core.selectors import org_unit_of
from guanxi.core.versioning import lock, update_versioned
from guanxi.service.models import ReplyTemplate, Ticket

PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
# name → what it is replaced with (shown in the template editor and the docs).
MERGE_FIELDS = {
    "customer": gettext_lazy("the customer's name (or the caller's)"),
    "ticket_number": gettext_lazy("the ticket number"),
    "subject": gettext_lazy("the ticket's subject"),
    "due": gettext_lazy("the SLA deadline that counts now (local time)"),
    "status": gettext_lazy("the ticket's status"),
    "agent": gettext_lazy("your name"),
    "team": gettext_lazy("the ticket's team"),
}
FIELDS = ("name", "body", "team_id", "active")


# --- reads ----------------------------------------------------------------------------------------------------------


def _unit_ids_offered(user) -> set[int]:
    """The teams whose templates `user` is offered: their own unit and the units above it, and their record scope."""
    ids: set[int] = set()
    unit = org_unit_of(user)
    if unit is not None:
        ids.update(unit.ancestor_ids())
        ids.add(unit.pk)
    scope = record_scope(user)
    ids.update(scope.unit_ids)
    return ids


def template_queryset(*, user) -> QuerySet[ReplyTemplate]:
    """Every template `user` may see (active or not): global ones and those of the teams offered to them."""
    if not user.has_perm("service.view_ticket"):
        return ReplyTemplate.objects.none()
    if record_scope(user).level == ScopeLevel.ALL:
        return ReplyTemplate.objects.all()
    return ReplyTemplate.objects.filter(Q(team__isnull=True) | Q(team_id__in=_unit_ids_offered(user)))


def template_list(
    *, user, active: bool | None = True, team_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """Templates by name, keyset-paginated; `active=None` includes the retired ones (the editor)."""
    templates = template_queryset(user=user).select_related("team")
    if active is not None:
        templates = templates.filter(active=active)
    if team_id is not None:
        templates = templates.filter(team_id=team_id)
    return keyset_page(templates, ordering="name", cursor=cursor, limit=limit)


def template_get(*, user, template_id: int) -> ReplyTemplate:
    template = template_queryset(user=user).select_related("team").filter(pk=template_id).first()
    if template is None:
        raise Http404
    return template


def templates_for_ticket(*, user, ticket: Ticket, limit: int = 100) -> list[ReplyTemplate]:
    """The active templates offered on `ticket`'s page: the user's, and those of the ticket's team (a hand-over
    receiver from another team gets that team's wording too)."""
    templates = template_queryset(user=user)
    if ticket.team_id is not None and record_scope(user).level != ScopeLevel.ALL:
        team_ids = {ticket.team_id, *ticket.team.ancestor_ids()}
        templates = ReplyTemplate.objects.filter(Q(pk__in=templates.values("pk")) | Q(team_id__in=team_ids))
    return list(templates.filter(active=True).order_by("name", "id")[:limit])


# --- merge fields ---------------------------------------------------------------------------------------------------


def merge_values(*, user, ticket: Ticket) -> dict[str, str]:
    """The value of each merge field for `ticket` as `user` writes to the customer."""
    customer = ticket.customer.name if ticket.customer_id else (ticket.caller_name or "")
    return {
        "customer": customer,
        "ticket_number": ticket.number,
        "subject": ticket.subject,
        "due": timezone.localtime(ticket.sla_due_at).strftime("%Y-%m-%d %H:%M"),
        "status": str(ticket.get_status_display()),
        "agent": user.get_full_name() or user.get_username(),
        "team": ticket.team.name if ticket.team_id else "",
    }


def render(body: str, values: dict[str, str]) -> str:
    """`body` with each `{field}` replaced; text that is not a known field is left as it is."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def unknown_fields(body: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(body) if name not in MERGE_FIELDS})


# --- writes ---------------------------------------------------------------------------------------------------------


def template_create(*, actor, data: dict) -> ReplyTemplate:
    require(actor, "service.manage_ticket")
    with transaction.atomic():
        template = ReplyTemplate(created_by=actor)
        _apply(actor, template, data, creating=True)
        template.save()
        audit.record(actor=actor, action="create", instance=template, changes=audit.snapshot(template))
    return template


def template_update(*, actor, template_id: int, version: int, data: dict) -> ReplyTemplate:
    require(actor, "service.manage_ticket")

    def apply(template: ReplyTemplate) -> None:
        _check_may_edit(actor, template.team_id)
        _apply(actor, template, data, creating=False)

    return update_versioned(_visible(actor, template_id), template_id, actor=actor, version=version, apply=apply)


def template_delete(*, actor, template_id: int, version: int) -> None:
    require(actor, "service.manage_ticket")
    with transaction.atomic():
        template = lock(_visible(actor, template_id), template_id, version)
        _check_may_edit(actor, template.team_id)
        audit.record(actor=actor, action="delete", instance=template, changes=audit.snapshot(template))
        template.delete()


def _visible(actor, template_id: int) -> QuerySet[ReplyTemplate]:
    """The template if the actor may see it, as a plain queryset to lock (the row only, not the scope's joins)."""
    ids = list(template_queryset(user=actor).filter(pk=template_id).values_list("pk", flat=True))
    return ReplyTemplate.objects.filter(pk__in=ids)


def _apply(actor, template: ReplyTemplate, data: dict, *, creating: bool) -> None:
    """Validate and set the fields; every error names the field the client sent."""
    errors: dict[str, str] = {}
    data = {key: value for key, value in data.items() if key in FIELDS}
    for key in ("name", "body"):
        if key in data or creating:
            value = (data.get(key) or "").strip()
            if not value:
                errors[key] = _("This field is required.")
            setattr(template, key, value)
    if template.body and (unknown := unknown_fields(template.body)):
        errors["body"] = _("Unknown merge field: %(fields)s. Use %(known)s.") % {
            "fields": ", ".join(f"{{{name}}}" for name in unknown),
            "known": ", ".join(f"{{{name}}}" for name in MERGE_FIELDS),
        }
    if "team_id" in data or creating:
        team_id = data.get("team_id")
        if team_id is not None and not OrgUnit.objects.filter(pk=team_id).exists():
            errors["team_id"] = _("No such team.")
        elif not errors.get("team_id"):
            try:
                _check_may_edit(actor, team_id)
            except PermissionDenied as exc:
                errors["team_id"] = str(exc)
        template.team_id = team_id
    if data.get("active") is not None:
        template.active = bool(data["active"])
    if errors:
        raise ValidationError(errors)
    try:
        template.full_clean(exclude=["team", "created_by"])
    except ValidationError as exc:
        raise ValidationError(
            {("team_id" if name == "team" else name): messages for name, messages in exc.message_dict.items()}
        ) from exc


def _check_may_edit(actor, team_id: int | None) -> None:
    """Global templates: service.configure_service. A team's: a lead or manager whose record scope holds the team."""
    if team_id is None:
        if not actor.has_perm("service.configure_service"):
            raise PermissionDenied(_("Only service administrators edit the templates offered to everyone."))
        return
    scope = record_scope(actor)
    if scope.level != ScopeLevel.ALL and team_id not in scope.unit_ids:
        raise PermissionDenied(_("You can only edit the templates of teams in your scope."))
