"""Deal pages: the sales home, list, create, detail (competitors, project team, stage history), edit, the kanban
board with its drag-and-drop move, and the weighted forecast."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core import selectors as core_selectors
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.scope import ScopeLevel, record_scope
from guanxi.customers import selectors as customer_selectors
from guanxi.sales import board, deals_selectors, deals_services
from guanxi.sales.deals_forms import CompetitorForm, DealEditForm, DealForm, TeamMemberForm
from guanxi.sales.deals_selectors import DealFilters
from guanxi.sales.leads_forms import STALE, apply_errors, filters_from, render_list
from guanxi.sales.models import Opportunity

# The sales home's links: (URL name, label, permission).
HOME_LINKS = [
    ("sales:lead_list", gettext_lazy("Leads"), "sales.view_lead"),
    ("sales:kanban", gettext_lazy("Kanban board"), "sales.view_opportunity"),
    ("sales:deal_list", gettext_lazy("Deals"), "sales.view_opportunity"),
    ("sales:forecast", gettext_lazy("Forecast"), "sales.view_opportunity"),
    ("sales:calllist_list", gettext_lazy("Call lists"), "sales.view_calllist"),
    ("sales:product_list", gettext_lazy("Products and price lists"), "sales.view_product"),
    ("sales:quote_list", gettext_lazy("Quotes"), "sales.view_quote"),
    ("sales:contract_list", gettext_lazy("Contracts"), "sales.view_contract"),
    ("sales:receivable_list", gettext_lazy("Receivables"), "sales.view_instalment"),
]


@login_required
def sales_home(request: HttpRequest) -> HttpResponse:
    links = [{"url": reverse(name), "label": label} for name, label, perm in HOME_LINKS if request.user.has_perm(perm)]
    return render(request, "sales/home.html", {"links": links})


def _teams(user) -> list[OrgUnit]:
    """The teams a lead or manager may pick on the board: the units of their scope (all for scope ALL)."""
    scope = record_scope(user)
    if scope.level == ScopeLevel.ALL:
        return list(OrgUnit.objects.order_by("path"))
    if scope.level in (ScopeLevel.TEAM, ScopeLevel.BRANCH):
        return list(OrgUnit.objects.filter(pk__in=scope.unit_ids).order_by("path"))
    return []


@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "sales.view_opportunity")
    context = {
        "pipelines": deals_selectors.pipeline_list(),
        "statuses": Opportunity.Status.choices,
        "owners": core_selectors.users_in_scope(user=request.user).order_by("username"),
        "teams": _teams(request.user),
    }
    return render_list(request, "deal", deals_selectors.opportunity_list, DealFilters, context)


@login_required
def deal_create(request: HttpRequest) -> HttpResponse:
    """A new deal on a customer (?customer=id, from the 360 view's deals panel)."""
    require(request.user, "sales.add_opportunity")
    customer_id = request.POST.get("customer_id") or request.GET.get("customer") or ""
    if not str(customer_id).isdigit():
        raise Http404
    customer = customer_selectors.customer_get(user=request.user, customer_id=int(customer_id))
    pipelines = deals_selectors.pipeline_list()
    form = DealForm(request.POST or None, initial={"customer_id": customer.pk, "amount": 0}, pipelines=pipelines)
    if request.method == "POST" and form.is_valid():
        try:
            deal = deals_services.opportunity_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Deal created."))
            return redirect("sales:deal_detail", deal.pk)
    return render(request, "sales/deal_form.html", {"form": form, "customer": customer, "deal": None})


@login_required
def deal_detail(request: HttpRequest, deal_id: int) -> HttpResponse:
    require(request.user, "sales.view_opportunity")
    deal = deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)
    context = {
        "deal": deal,
        "history": deals_selectors.stage_history(deal),
        "stages": [s for s in deals_selectors.pipeline_get(pipeline_id=deal.pipeline_id).stages.all()],
        "competitor_form": CompetitorForm(),
        "team_form": TeamMemberForm(users=core_selectors.users_in_scope(user=request.user).order_by("username")),
        "activities_url": reverse("activities:create") + f"?customer={deal.customer_id}&kind=outbound_call",
    }
    return render(request, "sales/deal_detail.html", context)


@login_required
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    require(request.user, "sales.change_opportunity")  # read-only roles get no form they cannot submit
    deal = deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)
    initial = {
        "name": deal.name,
        "amount": deal.amount,
        "expected_close": deal.expected_close,
        "description": deal.description,
        "version": deal.version,
    }
    form = DealEditForm(request.POST or None, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            deals_services.opportunity_update(actor=request.user, opportunity_id=deal.pk, version=version, data=data)
        except StaleVersion:
            stale = True
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:deal_detail", deal.pk)
    context = {"form": form, "deal": deal, "customer": deal.customer, "stale": stale, "stale_message": STALE}
    return render(request, "sales/deal_form.html", context)


@login_required
@require_POST
def deal_close(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Won or lost (with a reason), or a move to another stage from the detail page."""
    action = request.POST.get("action")
    version = int(request.POST.get("version") or 0)
    reason = request.POST.get("reason", "")
    try:
        if action == "won":
            deals_services.opportunity_won(actor=request.user, opportunity_id=deal_id, version=version, reason=reason)
        elif action == "lost":
            deals_services.opportunity_lost(actor=request.user, opportunity_id=deal_id, version=version, reason=reason)
        else:
            stage = request.POST.get("stage_id", "")
            deals_services.opportunity_move(
                actor=request.user,
                opportunity_id=deal_id,
                version=version,
                stage_id=int(stage) if stage.isdigit() else 0,
                reason=reason,
            )
    except StaleVersion:
        messages.error(request, STALE)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:deal_detail", deal_id)


@login_required
@require_POST
def deal_competitor(request: HttpRequest, deal_id: int) -> HttpResponse:
    remove = request.POST.get("remove", "")
    try:
        if remove.isdigit():
            deals_services.competitor_remove(actor=request.user, opportunity_id=deal_id, competitor_id=int(remove))
        else:
            form = CompetitorForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
                return redirect(reverse("sales:deal_detail", args=[deal_id]) + "#competitors")
            deals_services.competitor_add(actor=request.user, opportunity_id=deal_id, data=form.cleaned_data)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect(reverse("sales:deal_detail", args=[deal_id]) + "#competitors")


@login_required
@require_POST
def deal_team(request: HttpRequest, deal_id: int) -> HttpResponse:
    remove = request.POST.get("remove", "")
    try:
        if remove.isdigit():
            deals_services.team_member_remove(actor=request.user, opportunity_id=deal_id, member_id=int(remove))
        else:
            user = request.POST.get("user_id", "")
            deals_services.team_member_add(
                actor=request.user,
                opportunity_id=deal_id,
                user_id=int(user) if user.isdigit() else 0,
                role=request.POST.get("role", ""),
            )
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect(reverse("sales:deal_detail", args=[deal_id]) + "#team")


# --- kanban ---------------------------------------------------------------------------------------------------------


def _board_context(request: HttpRequest, *, error: str | None = None) -> dict:
    params = request.GET if request.method == "GET" else request.POST
    pipelines = deals_selectors.pipeline_list()
    if not pipelines:
        raise Http404
    wanted = params.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == wanted), pipelines[0])
    team = params.get("team", "")
    owner = params.get("owner", "")
    columns = board.kanban_board(
        user=request.user,
        pipeline=board.BoardPipeline.of(pipeline),
        team=int(team) if team.isdigit() else None,
        owner=int(owner) if owner.isdigit() else None,
    )
    return {
        "pipeline": pipeline,
        "pipelines": pipelines,
        "columns": columns,
        "team": team,
        "owner": owner,
        "teams": _teams(request.user),
        "owners": core_selectors.users_in_scope(user=request.user).order_by("username"),
        "error": error,
        "can_move": request.user.has_perm("sales.change_opportunity"),
    }


@login_required
def kanban(request: HttpRequest) -> HttpResponse:
    """The board of a pipeline (for a team or an owner with ?team= / ?owner=); htmx refreshes the board only."""
    require(request.user, "sales.view_opportunity")
    context = _board_context(request)
    template = "sales/kanban_board.html" if request.htmx else "sales/kanban.html"
    return render(request, template, context)


@login_required
def kanban_column(request: HttpRequest) -> HttpResponse:
    """The next cards of one column (the "more" link)."""
    require(request.user, "sales.view_opportunity")
    pipeline = board.board_pipeline_get(pipeline_id=_int(request.GET.get("pipeline")))
    columns = board.kanban_board(
        user=request.user,
        pipeline=pipeline,
        team=_int(request.GET.get("team")) or None,
        owner=_int(request.GET.get("owner")) or None,
        stage=_int(request.GET.get("stage")),
        offset=_int(request.GET.get("offset")),
    )
    if not columns:
        raise Http404
    context = {
        "column": columns[0],
        "pipeline": pipeline,
        "team": request.GET.get("team", ""),
        "owner": request.GET.get("owner", ""),
        "can_move": request.user.has_perm("sales.change_opportunity"),
    }
    return render(request, "sales/kanban_cards.html", context)


@login_required
@require_POST
def kanban_move(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The drag: move the card with the version it was drawn with. Answers the refreshed board; a stale card answers
    409 with the board as it is now and a message (kanban.js swaps it in)."""
    status, error = 200, None
    try:
        deals_services.opportunity_move(
            actor=request.user,
            opportunity_id=deal_id,
            version=_int(request.POST.get("version")),
            stage_id=_int(request.POST.get("stage_id")),
        )
    except StaleVersion:
        status, error = 409, _("Someone else changed this deal; the board shows it as it is now. Try again.")
    except Conflict as exc:
        status, error = 409, str(exc)
    except ValidationError as exc:
        status, error = 422, " ".join(exc.messages)
    return render(request, "sales/kanban_board.html", _board_context(request, error=error), status=status)


def _int(value) -> int:
    return int(value) if value and str(value).isdigit() else 0


# --- forecast -------------------------------------------------------------------------------------------------------


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    """The weighted forecast (销售预测) by month, owner or team."""
    require(request.user, "sales.view_opportunity")
    by = request.GET.get("by") if request.GET.get("by") in deals_selectors.FORECAST_GROUPS else "month"
    filters, bad_fields = filters_from(request.GET, DealFilters)
    rows = deals_selectors.forecast(
        user=request.user,
        by=by,
        pipeline=filters.pipeline,
        team=filters.team,
        owner=filters.owner,
        close_from=filters.close_from,
        close_to=filters.close_to,
    )
    totals = deals_selectors.forecast_totals(rows)
    peak = max((r["weighted"] for r in rows), default=0) or 1
    for row in rows:
        row["share"] = int(row["weighted"] * 100 / peak)
    context = {
        "by": by,
        "rows": rows,
        "totals": totals,
        "filters": filters,
        "bad_fields": bad_fields,
        "pipelines": deals_selectors.pipeline_list(),
        "teams": _teams(request.user),
        "owners": core_selectors.users_in_scope(user=request.user).order_by("username"),
        "groups": [("month", _("Month")), ("owner", _("Owner")), ("team", _("Team"))],
    }
    return render(request, "sales/forecast.html", context)
