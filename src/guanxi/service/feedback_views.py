"""Pages of return visits (回访), satisfaction surveys and the satisfaction/NPS figures.

Every read goes through the return_visits / surveys / satisfaction selectors, every write through their services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.customers.models import Customer
from guanxi.customers.selectors import category_list
from guanxi.service import return_visits, satisfaction, selectors, sms, surveys
from guanxi.service.models import ContactChannel, ReturnVisit, Survey

QUEUE_LABELS = {
    "due": pgettext_lazy("return visit", "Due"),
    "overdue": gettext_lazy("Overdue"),
    "upcoming": gettext_lazy("Upcoming"),
    "done": gettext_lazy("Done"),
}


def _int(value) -> int | None:
    return int(value) if str(value or "").lstrip("-").isdigit() else None


def _run(request: HttpRequest, call, success: str) -> bool:
    """Run a service call; its refusals become messages (the form stays on the page). True when it worked."""
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
        return True
    return False


# --- return visits --------------------------------------------------------------------------------------------------


@login_required
def visit_queue(request: HttpRequest) -> HttpResponse:
    """The return-visit queue: due (default), overdue, upcoming or done; mine only with `mine=1`."""
    queue = request.GET.get("queue", "due")
    if queue not in QUEUE_LABELS:
        queue = "due"
    mine = request.GET.get("mine") == "1"
    assignee_id = request.user.pk if mine else None
    try:
        page = return_visits.visit_queue(
            user=request.user, queue=queue, assignee_id=assignee_id, cursor=request.GET.get("cursor")
        )
    except BadCursor:
        page = return_visits.visit_queue(user=request.user, queue=queue, assignee_id=assignee_id)
    now = timezone.now()
    rows = [
        {
            "visit": v,
            "overdue": v.status in ReturnVisit.OPEN and v.due_at <= now - return_visits.OVERDUE_AFTER,
            "may_record": v.status in ReturnVisit.OPEN and return_visits.may_record(request.user, v),
        }
        for v in page.items
    ]
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if page.next:
        query["cursor"] = page.next
        next_query = query.urlencode()
    context = {
        "rows": rows,
        "queue": queue,
        "queues": list(QUEUE_LABELS.items()),
        "mine": mine,
        "channels": ContactChannel.choices,
        "next_query": next_query,
    }
    return render(request, "service/return_visits.html", context)


@login_required
@require_POST
def visit_record(request: HttpRequest, visit_id: int) -> HttpResponse:
    reached = request.POST.get("reached") == "yes"
    satisfaction_value = _int(request.POST.get("satisfaction")) if reached else None
    _run(
        request,
        lambda: return_visits.visit_record(
            actor=request.user,
            visit_id=visit_id,
            version=_int(request.POST.get("version")) or 0,
            reached=reached,
            channel=request.POST.get("channel", ""),
            satisfaction=satisfaction_value,
            comment=request.POST.get("comment", ""),
        ),
        _("Return visit recorded."),
    )
    back = request.POST.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("service:return_visits")


@login_required
def ticket_visits(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket page's return-visit box (htmx fragment): the visits of the ticket, their attempts, the record form."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    visits = return_visits.visits_of_ticket(ticket=ticket)
    rows = [
        {"visit": v, "may_record": v.status in ReturnVisit.OPEN and return_visits.may_record(request.user, v)}
        for v in visits
    ]
    return render(
        request,
        "service/_ticket_visits.html",
        {"ticket": ticket, "rows": rows, "channels": ContactChannel.choices},
    )


# --- surveys --------------------------------------------------------------------------------------------------------

SEGMENT_FIELDS = ("q", "grade", "category", "vip", "kind")


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    """Surveys, and the form of a new one (team leads and managers)."""
    if request.method == "POST":
        segment = {key: request.POST[key] for key in SEGMENT_FIELDS if request.POST.get(key, "") != ""}
        created = []
        ok = _run(
            request,
            lambda: created.append(
                surveys.survey_create(
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    channel=request.POST.get("channel", ""),
                    segment=segment,
                    description=request.POST.get("description", ""),
                )
            ),
            _("Survey saved as a draft; send it when ready."),
        )
        if ok:
            return redirect("service:survey", created[0].pk)
    page = surveys.survey_list(user=request.user, cursor=request.GET.get("cursor"))
    context = {
        "surveys": [(s, surveys.survey_counts(user=request.user, survey_id=s.pk)) for s in page.items],
        "next": page.next,
        "channels": ContactChannel.choices,
        "grades": Customer.Grade.choices,
        "kinds": Customer.Kind.choices,
        "categories": category_list(),
        "sms_gateway": sms.gateway_configured(),
    }
    return render(request, "service/surveys.html", context)


@login_required
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = surveys.survey_get(user=request.user, survey_id=survey_id)
    try:
        page = surveys.invitation_list(user=request.user, survey=survey, cursor=request.GET.get("cursor"))
    except BadCursor:
        page = surveys.invitation_list(user=request.user, survey=survey)
    for invitation in page.items:
        invitation.answerable = surveys.invitation_answerable(invitation, survey)
    context = {
        "survey": survey,
        "counts": surveys.survey_counts(user=request.user, survey_id=survey.pk),
        "progress": surveys.send_progress(survey),
        "invitations": page.items,
        "next": page.next,
        "Survey": Survey,
        "scores": range(0, 11),
        "levels": range(1, 6),
    }
    return render(request, "service/survey_detail.html", context)


@login_required
@require_POST
def survey_action(request: HttpRequest, survey_id: int, action: str) -> HttpResponse:
    version = _int(request.POST.get("version")) or 0
    if action == "send":
        sent = []
        _run(
            request,
            lambda: sent.append(surveys.survey_send(actor=request.user, survey_id=survey_id, version=version)),
            _("Sending the survey: the invitations are being created."),
        )
    elif action == "close":
        _run(
            request,
            lambda: surveys.survey_close(actor=request.user, survey_id=survey_id, version=version),
            _("Survey closed."),
        )
    else:
        raise Http404
    return redirect("service:survey", survey_id)


@login_required
@require_POST
def invitation_answer(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = surveys.invitation_get(user=request.user, invitation_id=invitation_id)
    _run(
        request,
        lambda: surveys.invitation_answer(
            actor=request.user,
            invitation_id=invitation_id,
            version=_int(request.POST.get("version")) or 0,
            recommend=_int(request.POST.get("recommend")),
            satisfaction=_int(request.POST.get("satisfaction")),
            comment=request.POST.get("comment", ""),
        ),
        _("Answer recorded."),
    )
    return redirect("service:survey", invitation.survey_id)


# --- figures --------------------------------------------------------------------------------------------------------

DIMENSION_LABELS = {
    "month": gettext_lazy("Month"),
    "team": gettext_lazy("Team"),
    "grade": gettext_lazy("Customer grade"),
    "customer": gettext_lazy("Customer"),
}


@login_required
def satisfaction_page(request: HttpRequest) -> HttpResponse:
    """Satisfaction and NPS per month, team, grade or customer, over what the user may see."""
    by = request.GET.get("by", "month")
    if by not in satisfaction.DIMENSIONS:
        by = "month"
    rows = satisfaction.satisfaction_summary(user=request.user, by=by)
    return render(
        request,
        "service/satisfaction.html",
        {"rows": rows, "by": by, "dimensions": [(key, DIMENSION_LABELS[key]) for key in satisfaction.DIMENSIONS]},
    )
