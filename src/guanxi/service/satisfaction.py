"""Satisfaction and NPS (E5) per customer, grade, team or month — SQL aggregates over what the caller may see.

Two sources: completed return visits (satisfaction 1–5, over the caller's visible tickets; grade and team are the
ticket's: the SLA grade it was served at and its responsible team) and answered survey invitations (satisfaction 1–5
and the 0–10 "would recommend" score, over the caller's visible customers; grade and team are the customer's).
NPS = % promoters (9–10) − % detractors (0–6) of the survey answers; return visits carry no NPS.
"""

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from guanxi.core.models import OrgUnit
from guanxi.customers.models import Customer
from guanxi.service import return_visits, selectors, surveys
from guanxi.service.models import ReturnVisit, SurveyInvitation

DIMENSIONS = ("customer", "grade", "team", "month")
PROMOTER, DETRACTOR = 9, 6

# dimension → (the key on a return visit, the key on a survey invitation)
_KEYS = {
    "customer": (F("ticket__customer_id"), F("customer_id")),
    "grade": (F("ticket__sla_grade"), F("customer__grade")),
    "team": (F("ticket__team_id"), F("customer__org_unit_id")),
    "month": (TruncMonth("completed_at"), TruncMonth("answered_at")),
}


@dataclass
class Row:
    key: object
    label: str
    responses: int = 0  # satisfaction answers (visits + surveys)
    satisfaction_total: int = 0
    nps_responses: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def satisfaction(self) -> float | None:
        return round(self.satisfaction_total / self.responses, 2) if self.responses else None

    @property
    def nps(self) -> float | None:
        if not self.nps_responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.nps_responses, 1)

    def as_dict(self) -> dict:
        return {
            "key": None if self.key is None else str(self.key),
            "label": self.label,
            "responses": self.responses,
            "satisfaction": self.satisfaction,
            "nps_responses": self.nps_responses,
            "promoters": self.promoters,
            "detractors": self.detractors,
            "nps": self.nps,
        }


def _visits(user, since, until, customer_id):
    visits = return_visits.visit_queryset(user=user).filter(
        status=ReturnVisit.Status.COMPLETED, satisfaction__isnull=False
    )
    if since is not None:
        visits = visits.filter(completed_at__gte=since)
    if until is not None:
        visits = visits.filter(completed_at__lt=until)
    if customer_id is not None:
        visits = visits.filter(ticket__customer_id=customer_id)
    return visits


def _answers(user, since, until, customer_id):
    answers = surveys.invitation_queryset(user=user).filter(status=SurveyInvitation.Status.ANSWERED)
    if since is not None:
        answers = answers.filter(answered_at__gte=since)
    if until is not None:
        answers = answers.filter(answered_at__lt=until)
    if customer_id is not None:
        answers = answers.filter(customer_id=customer_id)
    return answers


def satisfaction_summary(*, user, by: str, since=None, until=None, customer_id: int | None = None) -> list[dict]:
    """One row per customer / grade / team / month: responses, average satisfaction, NPS (two GROUP BY queries and
    one for the labels). Only the caller's visible tickets and customers count."""
    if by not in DIMENSIONS:
        raise ValueError(by)
    visit_key, answer_key = _KEYS[by]
    rows: dict = {}
    visit_groups = (
        _visits(user, since, until, customer_id)
        .annotate(key=visit_key)
        .values("key")
        .annotate(n=Count("id"), total=Sum("satisfaction"))
        .order_by()
    )
    for group in visit_groups:
        if group["key"] is None and by == "customer":
            continue  # an unknown caller's ticket: no customer to report on
        row = rows.setdefault(_norm(group["key"]), Row(key=_norm(group["key"]), label=""))
        row.responses += group["n"]
        row.satisfaction_total += group["total"] or 0
    answer_groups = (
        _answers(user, since, until, customer_id)
        .annotate(key=answer_key)
        .values("key")
        .annotate(
            n=Count("satisfaction"),
            total=Sum("satisfaction"),
            nps_n=Count("recommend"),
            promoters=Count("id", filter=Q(recommend__gte=PROMOTER)),
            detractors=Count("id", filter=Q(recommend__lte=DETRACTOR)),
        )
        .order_by()
    )
    for group in answer_groups:
        row = rows.setdefault(_norm(group["key"]), Row(key=_norm(group["key"]), label=""))
        row.responses += group["n"]
        row.satisfaction_total += group["total"] or 0
        row.nps_responses += group["nps_n"]
        row.promoters += group["promoters"]
        row.detractors += group["detractors"]
    _label(by, rows)
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, str(r.key) if by == "month" else r.label))
    return [row.as_dict() for row in ordered]


def _norm(key):
    return key.date().strftime("%Y-%m") if hasattr(key, "date") and callable(key.date) else key


def _label(by: str, rows: dict) -> None:
    from django.utils.translation import gettext as _

    ids = [key for key in rows if key is not None]
    if by == "customer":
        names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif by == "team":
        names = dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif by == "grade":
        names = {value: str(label) for value, label in Customer.Grade.choices}
    else:
        names = {key: key for key in ids}
    for key, row in rows.items():
        row.label = str(names.get(key, key)) if key is not None else _("(none)")


def customer_satisfaction(*, user, customer) -> dict:
    """The 360 panel: the customer's latest satisfaction (return visit or survey), latest "would recommend" score,
    and their averages — over what `user` may see of `customer` (already scope-checked; owner_id and sensitive
    loaded). Visits count through selectors.customer_tickets — the customer's tickets alone when the user may see all
    of them — and every survey answer of a visible customer is visible. Two statements without the scope's ORs, four
    when the customer has visits and answers: built through satisfaction_summary, this panel was a third of the 360
    view's Python (11 of 30 ms)."""
    if selectors.sees_all_tickets_of(user=user, customer=customer):
        # The join the latest visit's ticket number needs anyway, rather than an IN over the customer's tickets.
        mine = Q(ticket__customer_id=customer.pk)
    else:
        mine = Q(ticket__in=selectors.customer_tickets(user=user, customer=customer))
    visits = ReturnVisit.objects.filter(mine, status=ReturnVisit.Status.COMPLETED, satisfaction__isnull=False)
    answers = surveys.customer_invitations(customer=customer).filter(status=SurveyInvitation.Status.ANSWERED)
    latest_visit = (
        visits.order_by("-completed_at", "-id")
        .values("completed_at", "satisfaction", "comment", "ticket__number", "ticket_id")
        .first()
    )
    latest_answer = (
        answers.order_by("-answered_at", "-id")
        .values("answered_at", "satisfaction", "recommend", "comment", "survey__name")
        .first()
    )
    # No latest row, no rows: the totals are then known without their statement (most customers have no visit and
    # no answer; the two aggregates were half the panel's statements and Python on every 360 view).
    visit_totals = (
        visits.aggregate(n=Count("id"), total=Sum("satisfaction")) if latest_visit else {"n": 0, "total": None}
    )
    if latest_answer:
        answer_totals = answers.aggregate(
            n=Count("satisfaction"),
            total=Sum("satisfaction"),
            nps_n=Count("recommend"),
            promoters=Count("id", filter=Q(recommend__gte=PROMOTER)),
            detractors=Count("id", filter=Q(recommend__lte=DETRACTOR)),
        )
    else:
        answer_totals = {"n": 0, "total": None, "nps_n": 0, "promoters": 0, "detractors": 0}
    totals = Row(
        key=customer.pk,
        label=customer.name,
        responses=visit_totals["n"] + answer_totals["n"],
        satisfaction_total=(visit_totals["total"] or 0) + (answer_totals["total"] or 0),
        nps_responses=answer_totals["nps_n"],
        promoters=answer_totals["promoters"],
        detractors=answer_totals["detractors"],
    )
    candidates = []
    latest = None
    if latest_visit:
        candidates.append(
            (
                latest_visit["completed_at"],
                {
                    "source": "return_visit",
                    "at": latest_visit["completed_at"].isoformat(),
                    "satisfaction": latest_visit["satisfaction"],
                    "comment": latest_visit["comment"],
                    "ticket_number": latest_visit["ticket__number"],
                    "ticket_id": latest_visit["ticket_id"],
                },
            )
        )
    if latest_answer:
        candidates.append(
            (
                latest_answer["answered_at"],
                {
                    "source": "survey",
                    "at": latest_answer["answered_at"].isoformat(),
                    "satisfaction": latest_answer["satisfaction"],
                    "comment": latest_answer["comment"],
                    "survey": latest_answer["survey__name"],
                },
            )
        )
    if candidates:
        latest = max(candidates, key=lambda pair: pair[0])[1]
    return {
        "latest": latest,
        "latest_recommend": latest_answer["recommend"] if latest_answer else None,
        "responses": totals.responses,
        "satisfaction": totals.satisfaction,
        "nps": totals.nps,
    }
