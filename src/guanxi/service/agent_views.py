"""The agent tools on the ticket page (htmx): the reply-template picker, merging a duplicate, linked activities.

The ticket page loads `agent_tools` as a fragment; its forms post to `ticket_merge` and `follow_up`, which go back to
the ticket page with a message, like the page's other actions.
"""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.activities.models import Activity
from guanxi.service import reply_templates, selectors, services, ticket_activities
from guanxi.service.merge import merge_links, ticket_merge
from guanxi.service.models import Ticket
from guanxi.service.views import _int, _run

FOLLOW_UP_KINDS = (Activity.Kind.OUTBOUND_CALL, Activity.Kind.VISIT, Activity.Kind.TASK, Activity.Kind.SMS)


def merge_candidates(*, user, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """Other visible, unmerged tickets of the same customer (the duplicates the page offers), newest first."""
    if ticket.customer_id is None:
        return []
    return list(
        selectors.ticket_queryset(user=user)
        .filter(customer_id=ticket.customer_id, merged_into__isnull=True)
        .exclude(pk=ticket.pk)
        .only("id", "number", "subject", "status", "version", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )


@login_required
@require_GET
def agent_tools(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The fragment: reply templates filled in for this ticket, merge links and form, linked activities."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    values = reply_templates.merge_values(user=request.user, ticket=ticket)
    templates = [
        {"template": t, "text": reply_templates.render(t.body, values)}
        for t in reply_templates.templates_for_ticket(user=request.user, ticket=ticket)
    ]
    merged_into, merged_from = merge_links(user=request.user, ticket=ticket)
    may_act = services.may_act(request.user, ticket)
    may_merge = may_act and ticket.is_open and ticket.merged_into_id is None
    context = {
        "ticket": ticket,
        "templates": templates,
        "merged_into": merged_into,
        "merged_from": merged_from,
        "candidates": merge_candidates(user=request.user, ticket=ticket) if may_merge else [],
        "may_merge": may_merge,
        "activities": ticket_activities.activities_of_ticket(user=request.user, ticket=ticket),
        "may_follow_up": request.user.has_perm("activities.add_activity"),
        "kinds": [(kind.value, kind.label) for kind in FOLLOW_UP_KINDS],
    }
    return render(request, "service/_agent_tools.html", context)


@login_required
@require_POST
def merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Merge the chosen duplicate ("<id>:<version>" as the page listed it) into this ticket."""
    duplicate_id, _sep, duplicate_version = (request.POST.get("duplicate") or "").partition(":")
    return _run(
        request,
        ticket_id,
        lambda: ticket_merge(
            actor=request.user,
            ticket_id=ticket_id,
            version=_int(request.POST.get("version")) or 0,
            duplicate_id=_int(duplicate_id) or 0,
            duplicate_version=_int(duplicate_version) or 0,
        ),
        _("The duplicate was merged into this ticket and closed."),
    )


def _local(value: str) -> datetime | None:
    """A datetime-local field (YYYY-MM-DDTHH:MM) in the current time zone."""
    try:
        return timezone.make_aware(datetime.fromisoformat(value)) if value else None
    except ValueError:
        return None


@login_required
@require_POST
def follow_up(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A planned follow-up activity linked to the ticket."""
    data = {
        "kind": request.POST.get("kind") or Activity.Kind.OUTBOUND_CALL,
        "subject": request.POST.get("subject", ""),
        "planned_start": _local(request.POST.get("planned_start", "")),
        "notes": request.POST.get("notes", ""),
    }
    return _run(
        request,
        ticket_id,
        lambda: ticket_activities.follow_up_create(actor=request.user, ticket_id=ticket_id, data=data),
        _("Follow-up planned."),
    )
