"""Service pages (htmx): the team queue with SLA countdowns, the ticket form, the ticket page with its actions.

Every read goes through selectors, every write through services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST
from pydantic import ValidationError as SchemaError

from guanxi.activities.selectors import customer_by_number
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.customers import overview
from guanxi.customers.selectors import customer_get
from guanxi.service import selectors, services
from guanxi.service.filters import StatusFilter, TicketFilters
from guanxi.service.forms import TicketForm, apply_errors
from guanxi.service.models import Handover, Ticket
from guanxi.service.models.config import Kind, Priority

QUEUE_FILTERS = ("status", "team_id", "ticket_type", "priority", "channel", "breached", "q")
ACTIONS = ("accept", "start", "wait", "resolve", "close", "reopen")


def _filters_from(request: HttpRequest) -> tuple[TicketFilters, list[str]]:
    """The queue's filters; without a team the user's own team (the team queue), `team_id=` (empty) for all teams."""
    raw = {key: value for key, value in request.GET.items() if key in QUEUE_FILTERS and value != ""}
    if "team_id" not in request.GET:
        unit = org_unit_of(request.user)
        if unit is not None:
            raw["team_id"] = unit.pk
    try:
        return TicketFilters(**raw), []
    except SchemaError as exc:
        return TicketFilters(), [str(e["loc"][0]) for e in exc.errors()]


PRIORITY_LABELS = dict(Priority.choices)


def _countdown(ticket, *, status: str, due_at, sla_state: int, now) -> dict:
    """`ticket` (a queue row or a Ticket) with its SLA countdown state: paused while waiting, overdue, or warned."""
    return {
        "ticket": ticket,
        "paused": status == Ticket.Status.WAITING,
        "overdue": due_at <= now,
        "warned": sla_state == Ticket.SlaState.WARNED,
    }


def _queue_rows(rows: list[dict], now) -> list[dict]:
    """The queue's rows (selectors.ticket_rows) with their countdown and the priority label the table shows."""
    for row in rows:
        row["priority_label"] = PRIORITY_LABELS.get(row["priority"], row["priority"])
    return [
        _countdown(row, status=row["status"], due_at=row["sla_due_at"], sla_state=row["sla_state"], now=now)
        for row in rows
    ]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The team queue, most urgent deadline first; htmx refreshes the table every minute (the countdowns)."""
    filters, bad_fields = _filters_from(request)
    try:
        page = selectors.ticket_rows(user=request.user, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    except BadCursor:
        page = selectors.ticket_rows(user=request.user, filters=filters, limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if page.next:
        query["cursor"] = page.next
        next_query = query.urlencode()
    context = {
        "rows": _queue_rows(page.items, timezone.now()),
        "page": page,
        "filters": filters,
        "bad_fields": bad_fields,
        "next_query": next_query,
        "teams": selectors.handover_teams(user=request.user),
        "statuses": [(s.value, label) for s, label in _status_choices()],
        "kinds": Kind.choices,
        "priorities": Priority.choices,
        "channels": Ticket.Channel.choices,
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "service/_rows.html", context)
    if request.htmx:
        return render(request, "service/_table.html", context)
    return render(request, "service/home.html", context)


def _status_choices():
    labels = dict(Ticket.Status.choices)
    # "Open" alone is also a deal's state in sales (进行中): the context keeps the tickets' wording (未办结).
    labels.update({"open": pgettext("ticket filter", "Open"), "all": _("All")})
    return [(s, labels[s.value]) for s in StatusFilter]


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    """New ticket (a 95598 agent on the phone); `?customer=<id>` (the 360 view's button) fixes the customer."""
    require(request.user, "service.add_ticket")  # read-only roles get no form they cannot submit
    sub_types = selectors.active_sub_types()
    fixed = None
    if (request.GET.get("customer") or "").isdigit():
        fixed = customer_get(user=request.user, customer_id=int(request.GET["customer"]))
    form = TicketForm(request.POST or None, sub_types=sub_types, initial={"customer": fixed.number if fixed else ""})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        number = data.pop("customer")
        customer = customer_by_number(user=request.user, number=number) if number else None
        if number and customer is None:
            form.add_error("customer", _("No customer with this number that you may see."))
        else:
            data["customer_id"] = customer.pk if customer else None
            try:
                ticket = services.ticket_create(actor=request.user, data=data)
            except ValidationError as exc:
                apply_errors(form, exc.message_dict)
            except PermissionDenied as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Ticket %(number)s recorded.") % {"number": ticket.number})
                return redirect("service:detail", ticket.pk)
    return render(request, "service/form.html", {"form": form, "customer": fixed})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket, its actions, its hand-over chain and history, and the customer's 360 summary beside it."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    summary = None
    if ticket.customer_id:
        try:
            customer = customer_get(user=request.user, customer_id=ticket.customer_id)
        except Http404:  # a hand-over receiver from another branch sees the ticket, not the whole customer
            customer = None
        if customer is not None:
            summary = {
                "customer": customer,
                "profile": overview.profile(user=request.user, customer=customer),
                "contacts": overview.contacts(user=request.user, customer=customer)[:5],
                "recent": selectors.tickets_of_customer(user=request.user, customer=customer, limit=5),
            }
    pending = selectors.pending_handover(ticket=ticket)
    may_act = services.may_act(request.user, ticket)
    allowed = [a for a in ACTIONS if ticket.status in services.TRANSITIONS[a][0]] if may_act else []
    context = {
        "ticket": ticket,
        "row": _countdown(
            ticket, status=ticket.status, due_at=ticket.sla_due_at, sla_state=ticket.sla_state, now=timezone.now()
        ),
        "summary": summary,
        "chain": selectors.handover_chain(ticket=ticket),
        "events": selectors.ticket_events(ticket=ticket),
        "pending": pending,
        "is_receiver": pending is not None and services.is_handover_receiver(request.user, pending),
        "may_act": may_act,
        "allowed": allowed,
        "causes": selectors.causes_for(ticket_type=ticket.ticket_type),
        "colleagues": users_in_scope(user=request.user).exclude(pk=ticket.owner_id).order_by("username")[:200],
        "teams": selectors.handover_teams(user=request.user),
        "Handover": Handover,
    }
    return render(request, "service/detail.html", context)


def _run(request: HttpRequest, ticket_id: int, call, success: str) -> HttpResponse:
    try:
        call()
    except StaleVersion:
        messages.error(request, str(StaleVersion.message))
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("service:detail", ticket_id)


def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


@login_required
@require_POST
def ticket_action(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    version = _int(request.POST.get("version")) or 0
    return _run(
        request,
        ticket_id,
        lambda: services.ticket_transition(
            actor=request.user,
            ticket_id=ticket_id,
            version=version,
            action=action,
            note=request.POST.get("note", ""),
            resolution=request.POST.get("resolution", ""),
            cause_id=_int(request.POST.get("cause_id")),
        ),
        _("Ticket updated."),
    )


@login_required
@require_POST
def handover_request(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _run(
        request,
        ticket_id,
        lambda: services.handover_request(
            actor=request.user,
            ticket_id=ticket_id,
            version=_int(request.POST.get("version")) or 0,
            reason=request.POST.get("reason", ""),
            to_user_id=_int(request.POST.get("to_user_id")),
            to_team_id=_int(request.POST.get("to_team_id")),
        ),
        _("Hand-over requested; the ticket stays yours until it is accepted."),
    )


@login_required
@require_POST
def handover_answer(request: HttpRequest, ticket_id: int, answer: str) -> HttpResponse:
    note = request.POST.get("note", "")
    if answer == "accept":
        return _run(
            request,
            ticket_id,
            lambda: services.handover_accept(actor=request.user, ticket_id=ticket_id, note=note),
            _("You now own this ticket."),
        )
    if answer == "decline":
        return _run(
            request,
            ticket_id,
            lambda: services.handover_decline(actor=request.user, ticket_id=ticket_id, note=note),
            _("Hand-over declined; the ticket stays with the sender."),
        )
    raise Http404
