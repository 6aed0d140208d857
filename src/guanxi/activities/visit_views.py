"""The visit plan page (D2): plan against done per manager and team for a month, overdue customers, the rules."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.activities import calendar, visits
from guanxi.core.errors import StaleVersion
from guanxi.core.selectors import users_in_scope
from guanxi.customers.models import Customer


def _month(value: str | None) -> date:
    try:
        year, month = (value or "").split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


@login_required
def visit_plan_page(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month"))
    owner_id, team_id = _int(request.GET.get("owner")), _int(request.GET.get("team"))
    stored = visits.visit_rule_list()
    rules = visits.effective_rules(stored)  # one read of the rules for the plan, the overdue list and the table
    plan = visits.visit_plan(user=request.user, month=month, owner_id=owner_id, team_id=team_id, rules=rules)
    overdue = visits.overdue_visits(user=request.user, owner_id=owner_id, team_id=team_id, limit=50, rules=rules)
    labels = dict(Customer.Grade.choices)
    context = {
        "month": month,
        "prev_month": calendar.step("month", month, -1),
        "next_month": calendar.step("month", month, 1),
        "plan": plan,
        "overdue": overdue,
        "grades": Customer.Grade.choices,
        "rules": [(labels[rule.grade], rule, row) for rule, row in visits.rules_in_force(stored)],
        "period_choices": visits.PERIOD_CHOICES,
        "can_edit_rules": request.user.has_perm("activities.change_visitrule"),
        "scope_people": users_in_scope(user=request.user).order_by("username"),
        "scope_teams": calendar.teams_in_scope(user=request.user).order_by("path"),
        "owner_id": owner_id,
        "team_id": team_id,
    }
    return render(request, "activities/visit_plan.html", context)


@login_required
@require_POST
def visit_rule_save(request: HttpRequest) -> HttpResponse:
    try:
        visits.visit_rule_set(
            actor=request.user,
            grade=request.POST.get("grade", ""),
            owner_id=_int(request.POST.get("owner")),
            visits=int(request.POST.get("visits") or 0),
            period_months=int(request.POST.get("period_months") or 0),
            version=_int(request.POST.get("version")),
        )
        messages.success(request, _("The visit rule was saved."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    except StaleVersion:
        messages.error(request, str(StaleVersion.message))
    except ValueError:
        messages.error(request, _("Enter whole numbers."))
    return redirect("activities:visit_plans")
