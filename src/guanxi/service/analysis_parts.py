"""Where the complaint analysis' figures come from (service.analysis): additive Parts read from the rollups or
aggregated from tickets, so the rollups' figures can be corrected by the few tickets the team rule does not decide."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanxi.service.models import ReturnVisit, SatisfactionRollup, Ticket, TicketMonthRollup, TicketRollup
from guanxi.service.models.config import Kind
from guanxi.service.rollups import month_end, reopen_count

GROUP_COUNTS = (
    "tickets",
    "complaints",
    "response_met",
    "response_breached",
    "resolution_met",
    "resolution_breached",
    "reopens",
)
# Columns no other figure crosses, counted apart (the groups would be many times as many): rollup column → ticket's.
SINGLE_COLUMNS = {"channel": "channel", "priority": "priority", "grade": "sla_grade"}


@dataclass
class Parts:
    """The additive pieces every figure is made of; pieces from the rollups and from tickets add and subtract."""

    # (ticket_type, cause_id, team_id, month) → GROUP_COUNTS
    groups: dict[tuple, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # "channel", "priority", "grade" → value → tickets (SINGLE_COLUMNS)
    singles: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # (month, cause_id, sub_type_id — only when no cause is known) → repeat complaints
    repeats: Counter = field(default_factory=Counter)
    # month → visits, satisfaction_sum
    satisfaction: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, other: "Parts", sign: int = 1) -> None:
        for key, counts in other.groups.items():
            self.groups[key].update({name: sign * value for name, value in counts.items()})
        self.repeats.update({key: sign * value for key, value in other.repeats.items()})
        for column, counts in other.singles.items():
            self.singles[column].update({value: sign * n for value, n in counts.items()})
        for key, counts in other.satisfaction.items():
            self.satisfaction[key].update({name: sign * value for name, value in counts.items()})


def rollup_parts(*, date_from: date, date_to: date, teams: set[int] | None, repeat_days: int) -> Parts:
    """The rollups' rows of the period and of `teams` (None: every team, and no team): whole months from the month
    rollup, the days around them from the day rollup."""
    parts = Parts()
    if teams is not None and not teams:
        return parts
    in_teams = Q() if teams is None else Q(team_id__in=teams)
    first, last = _whole_months(date_from, date_to)
    if first is None:
        edges = Q(day__gte=date_from, day__lte=date_to)
    else:
        _add_rollup_rows(parts, _bucket_rows("month", in_teams & Q(month__gte=first, month__lte=last)), repeat_days)
        edges = Q(day__gte=date_from, day__lt=first) | Q(day__gt=month_end(last), day__lte=date_to)
    _add_rollup_rows(parts, _bucket_rows("day", in_teams & edges), repeat_days)
    scoped = in_teams & Q(day__gte=date_from, day__lte=date_to)
    visits = (
        SatisfactionRollup.objects.filter(scoped)
        .values("month")
        .annotate(n=Sum("visits"), total=Sum("satisfaction_sum"))
        .order_by()
    )
    for row in visits:
        parts.satisfaction[month_label(row["month"])].update(visits=row["n"], satisfaction_sum=row["total"])
    return parts


def _whole_months(start: date, end: date) -> tuple[date | None, date | None]:
    """The first days of the first and the last month lying wholly inside [start, end]; (None, None) if none does."""
    first = start if start.day == 1 else month_end(start) + timedelta(days=1)
    last = end.replace(day=1) if end == month_end(end) else (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    return (first, last) if first <= last else (None, None)


def _bucket_rows(bucket: str, condition: Q) -> QuerySet:
    """The month (or day) rollup's rows matching `condition`, annotated with `first`, the first day of their month."""
    if bucket == "month":
        return TicketMonthRollup.objects.filter(condition).annotate(first=F("month"))
    return TicketRollup.objects.filter(condition).annotate(first=TruncMonth("day"))


def _add_rollup_rows(parts: Parts, rows: QuerySet, repeat_days: int) -> None:
    """Rollup rows (annotated with `first`, their month) summed by month and key, added to `parts`."""
    key = ("first", "ticket_type", "cause_id", "team_id", "repeat_sub_type_id", "repeat_gap")
    grouped = rows.values(*key).annotate(**{f"n_{name}": Sum(name) for name in GROUP_COUNTS}).order_by()
    months: dict = {}
    for row in grouped.values_list(*key, *(f"n_{name}" for name in GROUP_COUNTS)):
        first, ticket_type, cause_id, team_id, sub_type_id, gap = row[:6]
        month = months.get(first) or months.setdefault(first, month_label(first))
        counts = parts.groups[(ticket_type, cause_id or None, team_id or None, month)]
        for name, value in zip(GROUP_COUNTS, row[6:], strict=True):
            counts[name] += value
        if 0 < gap <= repeat_days:
            parts.repeats[(month, cause_id or None, sub_type_id or None)] += row[6]
    _add_singles(parts, rows.values(*SINGLE_COLUMNS).annotate(n=Sum("tickets")).order_by(), tuple(SINGLE_COLUMNS))


def _add_singles(parts: Parts, grouped: QuerySet, sources: tuple[str, ...]) -> None:
    """One GROUP BY over the single columns (`sources`: their names in the grouped rows; a few dozen combinations),
    split into one counter per column."""
    for row in grouped:
        for column, source in zip(SINGLE_COLUMNS, sources, strict=True):
            parts.singles[column][row[source]] += row["n"]


def ticket_parts(tickets: QuerySet[Ticket], days: int) -> Parts:
    """The pieces aggregated from `tickets`: one GROUP BY carrying every count, the repeats, the satisfaction."""
    parts = Parts()
    rows = (
        tickets.annotate(month=TruncMonth("created_at"), reopened=reopen_count())
        .values("ticket_type", "cause_id", "team_id", "month")
        .annotate(
            n_tickets=Count("id"),
            n_complaints=Count("id", filter=Q(ticket_type=Kind.COMPLAINT, customer__isnull=False)),
            n_response_met=Count("id", filter=Q(responded_at__isnull=False, response_breached=False)),
            n_response_breached=Count("id", filter=Q(response_breached=True)),
            n_resolution_met=Count("id", filter=Q(resolved_at__isnull=False, resolution_breached=False)),
            n_resolution_breached=Count("id", filter=Q(resolution_breached=True)),
            n_reopens=Sum("reopened"),
        )
        .order_by()
    )
    for row in rows:
        key = (row["ticket_type"], row["cause_id"], row["team_id"], month_label(row["month"]))
        parts.groups[key].update({name: row[f"n_{name}"] for name in GROUP_COUNTS})
    sources = tuple(SINGLE_COLUMNS.values())
    _add_singles(parts, tickets.values(*sources).annotate(n=Count("id")).order_by(), sources)
    for row in _repeated(tickets, days):
        sub_type = row["sub_type_id"] if row["cause_id"] is None else None
        parts.repeats[(month_label(row["month"]), row["cause_id"], sub_type)] += row["n"]
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
        parts.satisfaction[month_label(row["month"])].update(visits=row["n"], satisfaction_sum=row["total"])
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


def month_label(value) -> str:
    """ "YYYY-MM" of a date, or of an aware datetime in local time."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"
