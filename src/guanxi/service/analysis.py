"""Complaint analysis (F4): tickets by type, cause, channel, priority, customer grade, team and month; SLA attainment;
reopens; repeat complaints; the satisfaction trend of return visits — over exactly the tickets the caller may see.

The period is the tickets' creation date (local time, both ends included); the satisfaction trend counts the return
visits of those tickets by the month they were completed in. A repeat complaint is a complaint of a customer with the
same cause as one of their complaints created within `repeat_days` before it (the rule of service.complaints: the
cause found at resolution, or while it is not known the sub-type recorded at intake), whoever may see the earlier one.

Where the figures come from. Aggregating the ticket table on each request took 3–5 s at 1,000,000 tickets on
PostgreSQL. Two ways were weighed (bench/analysis_bench.py, bench/RESULTS.md "Complaint analysis"):
(a) daily rollups (models.analysis: per local day × team × type × channel × priority × grade × cause, with SLA
outcomes, reopens and repeat gaps; satisfaction per day × team × month of the visit) kept exact by the ticket
services (service.rollups), or
(b) covering indexes and one grouped query per chart. (b) still reads every visible ticket of the period — an
index-only scan of ~500,000 entries for a year of an admin, plus the repeat look-ups per complaint — so it stays in
the hundreds of milliseconds and grows with the volume; (a) reads at most days × teams × types × channels × causes
rows (× priorities × grades since issue 5; most tickets share a few of those), independent of the ticket count, so
(a) it is.

Scope stays exact on the rollup: the team rule of service.selectors (a team inside the user's record scope) is a
filter on the rollup's team column; what the rule set adds or removes beyond teams is aggregated directly from
tickets and combined — minus the tickets of sensitive customers for a user without that permission (few, found from
customers_sensitive_ids_idx), plus the tickets outside the user's teams they own, received or were handed over (a
handful, from the owner/receiver indexes). Users whose scope is their own customers ("own") get the direct
aggregation: their tickets are few. complaint_analysis_direct() is that aggregation for any user; the tests hold
both equal.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import OrgUnit
from guanxi.core.roles import ScopeLevel
from guanxi.core.scope import record_scope
from guanxi.service import rollups, selectors
from guanxi.service.analysis_parts import Parts, rollup_parts, ticket_parts
from guanxi.service.models import (
    Handover,
    Ticket,
    TicketCause,
    TicketSubType,
)
from guanxi.service.models.config import Grade, Kind, Priority

DEFAULT_REPEAT_DAYS = 30
MAX_REPEAT_DAYS = rollups.MAX_REPEAT_DAYS
MAX_SPAN_DAYS = 366 * 3  # three years at most in one analysis


@dataclass(frozen=True)
class AnalysisFilters:
    date_from: date
    date_to: date  # included
    team_id: int | None = None
    repeat_days: int = DEFAULT_REPEAT_DAYS


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: the first day of the month eleven months ago up to today."""
    today = today or timezone.localdate()
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1), today


def filters_from(
    *, date_from: str | None, date_to: str | None, team: str | int | None, repeat_days: str | int | None
) -> AnalysisFilters:
    """Checked filters from request values (empty: the default); ValidationError naming the field otherwise."""
    errors = {}
    default_from, default_to = default_period()

    def day(value, name, default):
        if value in (None, ""):
            return default
        try:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
            return default

    start = day(date_from, "from", default_from)
    end = day(date_to, "to", default_to)
    if "from" not in errors and "to" not in errors:
        if end < start:
            errors["to"] = _("The end of the period is before its start.")
        elif (end - start).days > MAX_SPAN_DAYS:
            errors["to"] = _("Choose a period of at most three years.")
    team_id = None
    if team not in (None, ""):
        team_id = int(team) if str(team).isdigit() else None
        if team_id is None or not OrgUnit.objects.filter(pk=team_id).exists():
            errors["team"] = _("No such team.")
    days = DEFAULT_REPEAT_DAYS
    if repeat_days not in (None, ""):
        days = int(repeat_days) if str(repeat_days).isdigit() else 0
        if not 1 <= days <= MAX_REPEAT_DAYS:
            errors["repeat_days"] = _("Enter a number of days between 1 and %(max)d.") % {"max": MAX_REPEAT_DAYS}
    if errors:
        raise ValidationError(errors)
    return AnalysisFilters(date_from=start, date_to=end, team_id=team_id, repeat_days=days)


@dataclass
class Analysis:
    filters: AnalysisFilters
    total: int = 0
    by_type: list[dict] = field(default_factory=list)
    by_cause: list[dict] = field(default_factory=list)
    by_channel: list[dict] = field(default_factory=list)
    by_priority: list[dict] = field(default_factory=list)
    by_grade: list[dict] = field(default_factory=list)  # the customer's grade the ticket's SLA was taken from
    by_team: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    sla_by_month: list[dict] = field(default_factory=list)
    sla_by_team: list[dict] = field(default_factory=list)
    reopens: int = 0  # times tickets of the period were reopened
    reopens_by_month: list[dict] = field(default_factory=list)
    repeats: dict = field(default_factory=dict)
    satisfaction_by_month: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        f = self.filters
        return {
            "filters": {
                "from": f.date_from.isoformat(),
                "to": f.date_to.isoformat(),
                "team": f.team_id,
                "repeat_days": f.repeat_days,
            },
            "total": self.total,
            "by_type": self.by_type,
            "by_cause": self.by_cause,
            "by_channel": self.by_channel,
            "by_priority": self.by_priority,
            "by_grade": self.by_grade,
            "by_team": self.by_team,
            "by_month": self.by_month,
            "sla_by_month": self.sla_by_month,
            "sla_by_team": self.sla_by_team,
            "reopens": self.reopens,
            "reopens_by_month": self.reopens_by_month,
            "repeats": self.repeats,
            "satisfaction_by_month": self.satisfaction_by_month,
        }


# --- where the figures come from -------------------------------------------------------------------------------------


def _bounds(filters: AnalysisFilters) -> tuple[datetime, datetime]:
    """The period as [start, end) instants: local midnights."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(filters.date_from, time.min), tz)
    return start, timezone.make_aware(datetime.combine(filters.date_to + timedelta(days=1), time.min), tz)


def ticket_set(*, user, filters: AnalysisFilters) -> QuerySet[Ticket]:
    """The visible tickets created in the period (of the team, when one is chosen)."""
    start, end = _bounds(filters)
    visible = selectors.ticket_queryset(user=user, team_id=filters.team_id)
    return visible.filter(created_at__gte=start, created_at__lt=end)


def complaint_analysis(*, user, filters: AnalysisFilters) -> Analysis:
    """The figures from the rollups, corrected by the few tickets the team rule does not decide (module docstring).

    About six queries whatever the volume: the rollup, the satisfaction rollup, the sensitive and the beyond-team
    tickets' ids, and the labels."""
    scope = record_scope(user)
    if scope.level in (None, ScopeLevel.OWN):
        return complaint_analysis_direct(user=user, filters=filters)
    if scope.level == ScopeLevel.ALL:
        teams = None if filters.team_id is None else {filters.team_id}
    else:
        teams = set(scope.unit_ids) if filters.team_id is None else set(scope.unit_ids) & {filters.team_id}
    parts = rollup_parts(
        date_from=filters.date_from, date_to=filters.date_to, teams=teams, repeat_days=filters.repeat_days
    )
    if not scope.sees_sensitive:
        sensitive = _in_period(filters, Ticket.objects.filter(customer__sensitive=True), teams)
        parts.add(ticket_parts(sensitive, filters.repeat_days), sign=-1)
    if scope.level != ScopeLevel.ALL:
        parts.add(ticket_parts(_beyond_teams(user, scope, filters, teams), filters.repeat_days))
    return _analysis(filters, parts)


def complaint_analysis_direct(*, user, filters: AnalysisFilters) -> Analysis:
    """The same figures aggregated from the visible tickets themselves (users scoped to their own customers; the
    reference the rollups are tested against)."""
    return _analysis(filters, ticket_parts(ticket_set(user=user, filters=filters), filters.repeat_days))


def _in_period(filters: AnalysisFilters, tickets: QuerySet[Ticket], teams: set[int] | None) -> QuerySet[Ticket]:
    """`tickets` of the period, of `teams` (None: any) — as ids first, so the three aggregates read them by key."""
    start, end = _bounds(filters)
    tickets = tickets.filter(created_at__gte=start, created_at__lt=end)
    if teams is not None:
        tickets = tickets.filter(team_id__in=teams)
    return Ticket.objects.filter(pk__in=list(tickets.values_list("pk", flat=True)))


def _beyond_teams(user, scope, filters: AnalysisFilters, teams: set[int]) -> QuerySet[Ticket]:
    """The visible tickets outside `teams`: what service.selectors.ticket_queryset lets a team or branch user see
    besides their teams' tickets — owned, received, or with a pending hand-over to them or one of their teams."""
    pending = Handover.objects.filter(status=Handover.Status.PENDING).filter(
        Q(to_user_id=user.pk) | Q(to_team_id__in=scope.unit_ids)
    )
    mine = Q(owner_id=user.pk) | Q(receiver_id=user.pk) | Q(pk__in=list(pending.values_list("ticket_id", flat=True)))
    tickets = Ticket.objects.filter(mine).exclude(team_id__in=teams)
    if filters.team_id is not None:
        tickets = tickets.filter(team_id=filters.team_id)
    if not scope.sees_sensitive:
        tickets = tickets.filter(Q(customer__isnull=True) | Q(customer__sensitive=False))
    return _in_period(filters, tickets, None)


# --- the figures ----------------------------------------------------------------------------------------------------


def _analysis(filters: AnalysisFilters, parts: Parts) -> Analysis:
    groups = [
        {"ticket_type": k[0], "cause_id": k[1], "team_id": k[2], "month": k[3], **counts}
        for k, counts in parts.groups.items()
        if counts["tickets"]
    ]
    teams = dict(OrgUnit.objects.filter(pk__in={row["team_id"] for row in groups} - {None}).values_list("pk", "name"))
    cause_ids = {row["cause_id"] for row in groups} | {key[1] for key in parts.repeats}
    causes = dict(TicketCause.objects.filter(pk__in=cause_ids - {None}).values_list("pk", "name"))
    types = dict(Kind.choices)

    def team(row):
        return teams.get(row["team_id"]) or _("No team")

    result = Analysis(filters=filters)
    result.total = sum(row["tickets"] for row in groups)
    result.by_type = _rollup(groups, "ticket_type", lambda row: str(types.get(row["ticket_type"], row["ticket_type"])))
    for name, column, choices in (
        ("by_channel", "channel", Ticket.Channel.choices),
        ("by_priority", "priority", Priority.choices),
        ("by_grade", "grade", Grade.choices),
    ):
        setattr(result, name, _single(parts.singles[column], dict(choices)))
    result.by_cause = _rollup(groups, "cause_id", lambda row: causes.get(row["cause_id"]) or _("Not known yet"))
    result.by_team = _rollup(groups, "team_id", team)
    result.by_month = sorted(_rollup(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_month = sorted(_attainments(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_team = sorted(_attainments(groups, "team_id", team), key=lambda row: (row["label"], row["key"] or 0))
    result.reopens = sum(row["reopens"] for row in groups)
    result.reopens_by_month = sorted(
        (entry for entry in _rollup(groups, "month", lambda row: row["month"], "reopens") if entry["count"]),
        key=lambda row: row["key"],
    )
    complaints_by_month: Counter = Counter()
    for row in groups:
        if row["complaints"]:
            complaints_by_month[row["month"]] += row["complaints"]
    result.repeats = _repeats(filters.repeat_days, complaints_by_month, parts.repeats, causes)
    result.satisfaction_by_month = [
        {
            "key": month,
            "label": month,
            "visits": counts["visits"],
            "satisfaction": round(counts["satisfaction_sum"] / counts["visits"], 2),
        }
        for month, counts in sorted(parts.satisfaction.items())
        if counts["visits"]
    ]
    return result


def _single(counts: Counter, labels: dict) -> list[dict]:
    """Tickets by the values of one single column (Parts.singles), biggest first."""
    return sorted(
        ({"key": value, "label": str(labels.get(value, value)), "count": n} for value, n in counts.items() if n),
        key=lambda entry: (-entry["count"], str(entry["key"])),
    )


def _rollup(groups: list[dict], key: str, label, count: str = "tickets") -> list[dict]:
    """Sums of one count (default the tickets) of the groups by one column, biggest first."""
    found: dict = {}
    for row in groups:
        entry = found.get(row[key])
        if entry is None:  # the label once per key: translating it per row was most of the request's time
            entry = found[row[key]] = {"key": row[key], "label": label(row), "count": 0}
        entry["count"] += row[count]
    return sorted(found.values(), key=lambda entry: (-entry["count"], str(entry["key"])))


SLA_COUNTS = ("response_met", "response_breached", "resolution_met", "resolution_breached")


def _attainments(groups: list[dict], key: str, label) -> list[dict]:
    found: dict = {}
    for row in groups:
        entry = found.get(row[key])
        if entry is None:
            entry = found[row[key]] = {"key": row[key], "label": label(row), **dict.fromkeys(SLA_COUNTS, 0)}
        for name in SLA_COUNTS:
            entry[name] += row[name]
    for entry in found.values():
        entry["response_rate"] = _rate(entry["response_met"], entry["response_breached"])
        entry["resolution_rate"] = _rate(entry["resolution_met"], entry["resolution_breached"])
    return list(found.values())


def _rate(met: int, breached: int) -> float | None:
    return round(100 * met / (met + breached), 1) if met + breached else None


def _repeats(days: int, complaints_by_month: Counter, repeats: Counter, causes: dict) -> dict:
    """The repeat complaints by month and by cause (or sub-type, while no cause is known)."""
    repeats = Counter({key: n for key, n in repeats.items() if n})
    sub_types = dict(
        TicketSubType.objects.filter(pk__in={key[2] for key in repeats} - {None}).values_list("pk", "name")
    )
    by_month: Counter = Counter()
    by_cause: dict = {}
    for (month, cause_id, sub_type_id), n in repeats.items():
        by_month[month] += n
        key = cause_id if cause_id is not None else f"sub_type:{sub_type_id}"
        label = causes.get(cause_id) or sub_types.get(sub_type_id) or _("Not known yet")
        by_cause.setdefault(key, {"key": cause_id, "label": label, "count": 0})["count"] += n
    total = sum(complaints_by_month.values())
    count = sum(by_month.values())
    return {
        "days": days,
        "complaints": total,
        "repeats": count,
        "rate": round(100 * count / total, 1) if total else None,
        "by_month": [
            {"key": month, "label": month, "complaints": n, "repeats": by_month.get(month, 0)}
            for month, n in sorted(complaints_by_month.items())
        ],
        "by_cause": sorted(by_cause.values(), key=lambda entry: (-entry["count"], entry["label"])),
    }
