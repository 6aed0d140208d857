"""Complaint analysis (F4): tickets by type, cause, channel, team and month; SLA attainment; repeat complaints;
the satisfaction trend of return visits — over exactly the tickets the caller may see.

The period is the tickets' creation date (local time, both ends included); the satisfaction trend counts the return
visits of those tickets by the month they were completed in. A repeat complaint is a complaint of a customer with the
same cause as one of their complaints created within `repeat_days` before it (the rule of service.complaints: the
cause found at resolution, or while it is not known the sub-type recorded at intake), whoever may see the earlier one.

Where the figures come from. Aggregating the ticket table on each request took 3–5 s at 1,000,000 tickets on
PostgreSQL. Two ways were weighed (bench/analysis_bench.py, bench/RESULTS.md "Complaint analysis"):
(a) daily rollups (models.analysis: per local day × team × type × channel × cause, with SLA outcomes and repeat
gaps; satisfaction per day × team × month of the visit) kept exact by the ticket services (service.rollups), or
(b) covering indexes and one grouped query per chart. (b) still reads every visible ticket of the period — an
index-only scan of ~500,000 entries for a year of an admin, plus the repeat look-ups per complaint — so it stays in
the hundreds of milliseconds and grows with the volume; (a) reads at most days × teams × types × channels × causes
rows, independent of the ticket count, so (a) it is.

Scope stays exact on the rollup: the team rule of service.selectors (a team inside the user's record scope) is a
filter on the rollup's team column; what the rule set adds or removes beyond teams is aggregated directly from
tickets and combined — minus the tickets of sensitive customers for a user without that permission (few, found from
customers_sensitive_ids_idx), plus the tickets outside the user's teams they own, received or were handed over (a
handful, from the owner/receiver indexes). Users whose scope is their own customers ("own") get the direct
aggregation: their tickets are few. complaint_analysis_direct() is that aggregation for any user; the tests hold
both equal.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import OrgUnit
from guanxi.core.roles import ScopeLevel
from guanxi.core.scope import record_scope
from guanxi.service import rollups, selectors
from guanxi.service.models import (
    Handover,
    ReturnVisit,
    SatisfactionRollup,
    Ticket,
    TicketCause,
    TicketMonthRollup,
    TicketRollup,
    TicketSubType,
)
from guanxi.service.models.config import Kind

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
    by_team: list[dict] = field(default_factory=list)
    by_month: list[dict] = field(default_factory=list)
    sla_by_month: list[dict] = field(default_factory=list)
    sla_by_team: list[dict] = field(default_factory=list)
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
            "by_team": self.by_team,
            "by_month": self.by_month,
            "sla_by_month": self.sla_by_month,
            "sla_by_team": self.sla_by_team,
            "repeats": self.repeats,
            "satisfaction_by_month": self.satisfaction_by_month,
        }


# --- where the figures come from -------------------------------------------------------------------------------------

GROUP_COUNTS = ("tickets", "complaints", "response_met", "response_breached", "resolution_met", "resolution_breached")


@dataclass
class Parts:
    """The additive pieces every figure is made of; pieces from the rollups and from tickets add and subtract."""

    # (ticket_type, cause_id, team_id, month) → GROUP_COUNTS
    groups: dict[tuple, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # channel → tickets (no other figure crosses the channel: kept apart, the groups are a seventh as many)
    channels: Counter = field(default_factory=Counter)
    # (month, cause_id, sub_type_id — only when no cause is known) → repeat complaints
    repeats: Counter = field(default_factory=Counter)
    # month → visits, satisfaction_sum
    satisfaction: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, other: "Parts", sign: int = 1) -> None:
        for key, counts in other.groups.items():
            self.groups[key].update({name: sign * value for name, value in counts.items()})
        self.repeats.update({key: sign * value for key, value in other.repeats.items()})
        self.channels.update({key: sign * value for key, value in other.channels.items()})
        for key, counts in other.satisfaction.items():
            self.satisfaction[key].update({name: sign * value for name, value in counts.items()})


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
    parts = _rollup_parts(filters, teams)
    if not scope.sees_sensitive:
        sensitive = _in_period(filters, Ticket.objects.filter(customer__sensitive=True), teams)
        parts.add(_ticket_parts(sensitive, filters.repeat_days), sign=-1)
    if scope.level != ScopeLevel.ALL:
        parts.add(_ticket_parts(_beyond_teams(user, scope, filters, teams), filters.repeat_days))
    return _analysis(filters, parts)


def complaint_analysis_direct(*, user, filters: AnalysisFilters) -> Analysis:
    """The same figures aggregated from the visible tickets themselves (users scoped to their own customers; the
    reference the rollups are tested against)."""
    return _analysis(filters, _ticket_parts(ticket_set(user=user, filters=filters), filters.repeat_days))


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


def _rollup_parts(filters: AnalysisFilters, teams: set[int] | None) -> Parts:
    """The rollups' rows of the period and of `teams` (None: every team, and no team): whole months from the month
    rollup, the days around them from the day rollup."""
    parts = Parts()
    if teams is not None and not teams:
        return parts
    in_teams = Q() if teams is None else Q(team_id__in=teams)
    first, last = _whole_months(filters.date_from, filters.date_to)
    if first is None:
        edges = Q(day__gte=filters.date_from, day__lte=filters.date_to)
    else:
        months = TicketMonthRollup.objects.filter(in_teams, month__gte=first, month__lte=last)
        _add_rollup_rows(parts, months.annotate(first=F("month")), filters.repeat_days)
        edges = Q(day__gte=filters.date_from, day__lt=first) | Q(day__gt=_month_end(last), day__lte=filters.date_to)
    days = TicketRollup.objects.filter(in_teams & edges)
    _add_rollup_rows(parts, days.annotate(first=TruncMonth("day")), filters.repeat_days)
    scoped = in_teams & Q(day__gte=filters.date_from, day__lte=filters.date_to)
    visits = (
        SatisfactionRollup.objects.filter(scoped)
        .values("month")
        .annotate(n=Sum("visits"), total=Sum("satisfaction_sum"))
        .order_by()
    )
    for row in visits:
        parts.satisfaction[_month(row["month"])].update(visits=row["n"], satisfaction_sum=row["total"])
    return parts


def _whole_months(start: date, end: date) -> tuple[date | None, date | None]:
    """The first days of the first and the last month lying wholly inside [start, end]; (None, None) if none does."""
    first = start if start.day == 1 else _month_end(start) + timedelta(days=1)
    last = end.replace(day=1) if end == _month_end(end) else (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else (None, None)


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _add_rollup_rows(parts: Parts, rows: QuerySet, repeat_days: int) -> None:
    """Rollup rows (annotated with `first`, their month) summed by month and key, added to `parts`."""
    key = ("first", "ticket_type", "cause_id", "team_id", "repeat_sub_type_id", "repeat_gap")
    grouped = rows.values(*key).annotate(**{f"n_{name}": Sum(name) for name in GROUP_COUNTS}).order_by()
    months: dict = {}
    for row in grouped.values_list(*key, *(f"n_{name}" for name in GROUP_COUNTS)):
        first, ticket_type, cause_id, team_id, sub_type_id, gap = row[:6]
        month = months.get(first) or months.setdefault(first, _month(first))
        counts = parts.groups[(ticket_type, cause_id or None, team_id or None, month)]
        for name, value in zip(GROUP_COUNTS, row[6:], strict=True):
            counts[name] += value
        if 0 < gap <= repeat_days:
            parts.repeats[(month, cause_id or None, sub_type_id or None)] += row[6]
    parts.channels.update(
        dict(rows.values("channel").annotate(n=Sum("tickets")).order_by().values_list("channel", "n"))
    )


def _ticket_parts(tickets: QuerySet[Ticket], days: int) -> Parts:
    """The pieces aggregated from `tickets`: one GROUP BY carrying every count, the repeats, the satisfaction."""
    parts = Parts()
    rows = (
        tickets.annotate(month=TruncMonth("created_at"))
        .values("ticket_type", "channel", "cause_id", "team_id", "month")
        .annotate(
            n_tickets=Count("id"),
            n_complaints=Count("id", filter=Q(ticket_type=Kind.COMPLAINT, customer__isnull=False)),
            n_response_met=Count("id", filter=Q(responded_at__isnull=False, response_breached=False)),
            n_response_breached=Count("id", filter=Q(response_breached=True)),
            n_resolution_met=Count("id", filter=Q(resolved_at__isnull=False, resolution_breached=False)),
            n_resolution_breached=Count("id", filter=Q(resolution_breached=True)),
        )
        .order_by()
    )
    for row in rows:
        key = (row["ticket_type"], row["cause_id"], row["team_id"], _month(row["month"]))
        parts.groups[key].update({name: row[f"n_{name}"] for name in GROUP_COUNTS})
        parts.channels[row["channel"]] += row["n_tickets"]
    for row in _repeated(tickets, days):
        sub_type = row["sub_type_id"] if row["cause_id"] is None else None
        parts.repeats[(_month(row["month"]), row["cause_id"], sub_type)] += row["n"]
    visits = (
        ReturnVisit.objects.filter(
            ticket_id__in=tickets.values("pk"), status=ReturnVisit.Status.COMPLETED, satisfaction__isnull=False
        )
        .annotate(month=TruncMonth("completed_at"))
        .values("month")
        .annotate(n=Count("id"), total=Sum("satisfaction"))
        .order_by()
    )
    for row in visits:
        parts.satisfaction[_month(row["month"])].update(visits=row["n"], satisfaction_sum=row["total"])
    return parts


def _repeated(tickets: QuerySet, days: int):
    """Complaints repeating an earlier complaint of the same customer and cause within `days` before them, by month,
    cause and sub-type."""
    window_start = ExpressionWrapper(OuterRef("created_at") - timedelta(days=days), output_field=DateTimeField())
    earlier = Ticket.objects.filter(
        ticket_type=Kind.COMPLAINT,
        customer_id=OuterRef("customer_id"),
        created_at__lt=OuterRef("created_at"),
        created_at__gte=window_start,
    )
    by_cause = earlier.filter(
        Q(cause_id=OuterRef("cause_id")) | Q(cause__isnull=True, sub_type_id=OuterRef("sub_type_id"))
    )
    by_sub_type = earlier.filter(sub_type_id=OuterRef("sub_type_id"))
    repeated = tickets.filter(ticket_type=Kind.COMPLAINT, customer__isnull=False).filter(
        (Q(cause__isnull=False) & Exists(by_cause))
        | (Q(cause__isnull=True, sub_type__isnull=False) & Exists(by_sub_type))
    )
    return (
        repeated.annotate(month=TruncMonth("created_at"))
        .values("month", "cause_id", "sub_type_id")
        .annotate(n=Count("id"))
        .order_by()
    )


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
    types, channels = dict(Kind.choices), dict(Ticket.Channel.choices)

    def team(row):
        return teams.get(row["team_id"]) or _("No team")

    result = Analysis(filters=filters)
    result.total = sum(row["tickets"] for row in groups)
    result.by_type = _rollup(groups, "ticket_type", lambda row: str(types.get(row["ticket_type"], row["ticket_type"])))
    result.by_channel = sorted(
        (
            {"key": channel, "label": str(channels.get(channel, channel)), "count": n}
            for channel, n in parts.channels.items()
            if n
        ),
        key=lambda entry: (-entry["count"], str(entry["key"])),
    )
    result.by_cause = _rollup(groups, "cause_id", lambda row: causes.get(row["cause_id"]) or _("Not known yet"))
    result.by_team = _rollup(groups, "team_id", team)
    result.by_month = sorted(_rollup(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_month = sorted(_attainments(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_team = sorted(_attainments(groups, "team_id", team), key=lambda row: (row["label"], row["key"] or 0))
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


def _rollup(groups: list[dict], key: str, label) -> list[dict]:
    """Counts of the groups by one column, biggest first."""
    found: dict = {}
    for row in groups:
        entry = found.get(row[key])
        if entry is None:  # the label once per key: translating it per row was most of the request's time
            entry = found[row[key]] = {"key": row[key], "label": label(row), "count": 0}
        entry["count"] += row["tickets"]
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


def _month(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


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
