"""Complaint analysis (F4): tickets by type, cause, channel, team and month; SLA attainment; repeat complaints;
the satisfaction trend of return visits — SQL aggregates over the tickets the caller may see.

Every figure starts from service.selectors.ticket_queryset(user=…), so a team lead counts their team's tickets and an
account manager their customers' (plus what they own or received). The period is the tickets' creation date (local
time, both ends included); the satisfaction trend counts the return visits of those tickets by the month they were
completed in. A repeat complaint is a complaint of a customer with the same cause as one of their complaints created
within `repeat_days` before it (the rule of service.complaints: the cause found at resolution, or while it is not known
the sub-type recorded at intake), whoever may see the earlier one — as the ticket page flags a repeat
(complaints.is_repeat); the earlier complaint itself is never shown.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core.models import OrgUnit
from guanxi.core.spreadsheets import xlsx_row
from guanxi.service import selectors
from guanxi.service.models import ReturnVisit, Ticket
from guanxi.service.models.config import Kind

DEFAULT_REPEAT_DAYS = 30
MAX_REPEAT_DAYS = 365
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


# --- the queries ---------------------------------------------------------------------------------------------------


def ticket_set(*, user, filters: AnalysisFilters) -> QuerySet[Ticket]:
    """The visible tickets created in the period (of the team, when one is chosen)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(filters.date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(filters.date_to + timedelta(days=1), time.min), tz)
    return selectors.ticket_queryset(user=user, team_id=filters.team_id).filter(
        created_at__gte=start, created_at__lt=end
    )


def complaint_analysis(*, user, filters: AnalysisFilters) -> Analysis:
    """Three queries whatever the volume: one GROUP BY (type, channel, cause, team, month) carrying every count, rolled
    up here into each breakdown; one for the repeat complaints; one for the satisfaction trend."""
    tickets = ticket_set(user=user, filters=filters)
    groups = list(
        tickets.annotate(month=TruncMonth("created_at"))
        .values("ticket_type", "channel", "cause_id", "cause__name", "team_id", "team__name", "month")
        .annotate(
            n=Count("id"),
            complaints=Count("id", filter=Q(ticket_type=Kind.COMPLAINT, customer__isnull=False)),
            response_met=Count("id", filter=Q(responded_at__isnull=False, response_breached=False)),
            response_breached=Count("id", filter=Q(response_breached=True)),
            resolution_met=Count("id", filter=Q(resolved_at__isnull=False, resolution_breached=False)),
            resolution_breached=Count("id", filter=Q(resolution_breached=True)),
        )
        .order_by()
    )
    for row in groups:
        row["month"] = _month(row["month"])
    result = Analysis(filters=filters)
    result.total = sum(row["n"] for row in groups)
    types, channels = dict(Kind.choices), dict(Ticket.Channel.choices)
    result.by_type = _rollup(groups, "ticket_type", lambda row: str(types.get(row["ticket_type"], row["ticket_type"])))
    result.by_channel = _rollup(groups, "channel", lambda row: str(channels.get(row["channel"], row["channel"])))
    result.by_cause = _rollup(groups, "cause_id", lambda row: row["cause__name"] or _("Not known yet"))
    result.by_team = _rollup(groups, "team_id", lambda row: row["team__name"] or _("No team"))
    result.by_month = sorted(_rollup(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_month = sorted(_attainments(groups, "month", lambda row: row["month"]), key=lambda row: row["key"])
    result.sla_by_team = sorted(
        _attainments(groups, "team_id", lambda row: row["team__name"] or _("No team")),
        key=lambda row: (row["label"], row["key"] or 0),
    )
    complaints_by_month: dict[str, int] = {}
    for row in groups:
        if row["complaints"]:
            complaints_by_month[row["month"]] = complaints_by_month.get(row["month"], 0) + row["complaints"]
    result.repeats = _repeats(tickets, filters.repeat_days, complaints_by_month)
    result.satisfaction_by_month = _satisfaction(tickets)
    return result


def _rollup(groups: list[dict], key: str, label) -> list[dict]:
    """Counts of the groups by one column, biggest first."""
    found: dict = {}
    for row in groups:
        entry = found.setdefault(row[key], {"key": row[key], "label": label(row), "count": 0})
        entry["count"] += row["n"]
    return sorted(found.values(), key=lambda entry: (-entry["count"], str(entry["key"])))


SLA_COUNTS = ("response_met", "response_breached", "resolution_met", "resolution_breached")


def _attainments(groups: list[dict], key: str, label) -> list[dict]:
    found: dict = {}
    for row in groups:
        entry = found.setdefault(row[key], {"key": row[key], "label": label(row), **dict.fromkeys(SLA_COUNTS, 0)})
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


def _repeats(tickets: QuerySet, days: int, complaints_by_month: dict[str, int]) -> dict:
    """Complaints repeating an earlier complaint of the same customer and cause within `days` before them."""
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
    rows = list(
        repeated.annotate(month=TruncMonth("created_at"))
        .values("month", "cause_id", "cause__name", "sub_type_id", "sub_type__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    repeats_by_month: dict[str, int] = {}
    causes: dict = {}
    for row in rows:
        month = _month(row["month"])
        repeats_by_month[month] = repeats_by_month.get(month, 0) + row["n"]
        key = row["cause_id"] if row["cause_id"] is not None else f"sub_type:{row['sub_type_id']}"
        label = row["cause__name"] or row["sub_type__name"] or _("Not known yet")
        causes.setdefault(key, {"key": row["cause_id"], "label": label, "count": 0})["count"] += row["n"]
    total = sum(complaints_by_month.values())
    count = sum(repeats_by_month.values())
    return {
        "days": days,
        "complaints": total,
        "repeats": count,
        "rate": round(100 * count / total, 1) if total else None,
        "by_month": [
            {"key": month, "label": month, "complaints": n, "repeats": repeats_by_month.get(month, 0)}
            for month, n in sorted(complaints_by_month.items())
        ],
        "by_cause": sorted(causes.values(), key=lambda entry: (-entry["count"], entry["label"])),
    }


def _satisfaction(tickets: QuerySet) -> list[dict]:
    """Average return-visit satisfaction (1–5) per month of completion, for the tickets analysed."""
    visits = ReturnVisit.objects.filter(
        ticket_id__in=tickets.values("pk"), status=ReturnVisit.Status.COMPLETED, satisfaction__isnull=False
    )
    rows = (
        visits.annotate(month=TruncMonth("completed_at"))
        .values("month")
        .annotate(n=Count("id"), average=Avg("satisfaction"))
        .order_by("month")
    )
    return [
        {
            "key": _month(row["month"]),
            "label": _month(row["month"]),
            "visits": row["n"],
            "satisfaction": round(float(row["average"]), 2),
        }
        for row in rows
    ]


# --- export --------------------------------------------------------------------------------------------------------


def analysis_xlsx(analysis: Analysis) -> bytes:
    """The analysis as XLSX: one sheet per figure, the numbers the charts show."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    f = analysis.filters

    def sheet(title: str, header: list[str], rows: list[list]) -> None:
        page = book.create_sheet(title[:31])
        page.append(xlsx_row(page, header))
        for row in rows:
            page.append(xlsx_row(page, row))

    sheet(
        pgettext("analysis", "Summary"),
        [_("From"), _("To"), _("Tickets"), _("Repeat window (days)")],
        [[f.date_from, f.date_to, analysis.total, f.repeat_days]],
    )
    for title, rows in (
        (_("By type"), analysis.by_type),
        (_("By cause"), analysis.by_cause),
        (_("By channel"), analysis.by_channel),
        (_("By team"), analysis.by_team),
        (_("By month"), analysis.by_month),
    ):
        sheet(title, [title, _("Tickets")], [[row["label"], row["count"]] for row in rows])
    sla_header = [
        "",
        _("Response met"),
        _("Response missed"),
        _("Response attainment (%)"),
        _("Resolution met"),
        _("Resolution missed"),
        _("Resolution attainment (%)"),
    ]
    for title, rows in ((_("SLA by month"), analysis.sla_by_month), (_("SLA by team"), analysis.sla_by_team)):
        sheet(
            title,
            sla_header,
            [
                [
                    row["label"],
                    row["response_met"],
                    row["response_breached"],
                    row["response_rate"],
                    row["resolution_met"],
                    row["resolution_breached"],
                    row["resolution_rate"],
                ]
                for row in rows
            ],
        )
    repeats = analysis.repeats
    sheet(
        _("Repeat complaints"),
        [_("Month"), _("Complaints"), _("Repeats")],
        [[row["label"], row["complaints"], row["repeats"]] for row in repeats["by_month"]]
        + [[_("Total"), repeats["complaints"], repeats["repeats"]]],
    )
    sheet(
        _("Repeats by cause"),
        [_("Cause"), _("Repeats")],
        [[row["label"], row["count"]] for row in repeats["by_cause"]],
    )
    sheet(
        _("Satisfaction"),
        [_("Month"), _("Return visits"), _("Average satisfaction (1–5)")],
        [[row["label"], row["visits"], row["satisfaction"]] for row in analysis.satisfaction_by_month],
    )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
