"""Keeping the analysis rollups exact: every write of a ticket calls refresh(), a completed return visit
visit_completed(); rebuild() recomputes a day range from the tickets (data written by COPY or by hand), one day (then
one month) per transaction so the ticket writes it makes wait stay short.

A ticket's tally (TicketTally) is what it adds to TicketRollup. refresh() computes the tickets' tallies afresh, takes
the old ones under a row lock, and adds the differences to the rollup with an additive upsert — concurrent writes of
different tickets commute. A complaint's repeat gap depends on the customer's earlier complaints, so refreshing a
complaint also refreshes the same customer's later complaints within MAX_REPEAT_DAYS (and the old customer's, when
the ticket was linked to another one).
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Max, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from guanxi.service.models import (
    ReturnVisit,
    SatisfactionRollup,
    Ticket,
    TicketEvent,
    TicketMonthRollup,
    TicketRollup,
    TicketTally,
)
from guanxi.service.models.config import Kind

MAX_REPEAT_DAYS = 365  # the longest repeat window the analysis offers
KEY = ("day", "team_id", "ticket_type", "channel", "priority", "grade", "cause_id", "repeat_sub_type_id", "repeat_gap")
MONTH_KEY = ("month", *KEY[1:])
COUNTS = ("complaints", "response_met", "response_breached", "resolution_met", "resolution_breached", "reopens")
_DAY_US = 86_400 * 1_000_000


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def reopen_count() -> Coalesce:
    """How often the ticket (OuterRef "pk") was reopened: its "reopened" events (ticket_event_idx)."""
    events = (
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind=TicketEvent.Kind.REOPENED)
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(events, output_field=IntegerField()), Value(0))


# The tally columns of a ticket, as SQL: used for one ticket (refresh) and a million (rebuild).
TALLY_COLUMNS = {
    "customer_id": F("customer_id"),
    "day": TruncDate("created_at"),
    "team_id": Coalesce("team_id", Value(0)),
    "ticket_type": F("ticket_type"),
    "channel": F("channel"),
    "priority": F("priority"),
    "grade": F("sla_grade"),
    "cause_id": Coalesce("cause_id", Value(0)),
    "complaints": _flag(Q(ticket_type=Kind.COMPLAINT, customer__isnull=False)),
    "response_met": _flag(Q(responded_at__isnull=False, response_breached=False)),
    "response_breached": _flag(Q(response_breached=True)),
    "resolution_met": _flag(Q(resolved_at__isnull=False, resolution_breached=False)),
    "resolution_breached": _flag(Q(resolution_breached=True)),
    "reopens": reopen_count(),
}


def _tally_rows(tickets) -> list[dict]:
    """The tallies of `tickets` (repeat columns still 0), with created_at and sub_type_id for repeat_gaps()."""
    return list(
        tickets.annotate(**{f"t_{name}": expr for name, expr in TALLY_COLUMNS.items()}).values(
            "id", "created_at", "sub_type_id", *(f"t_{name}" for name in TALLY_COLUMNS)
        )
    )


def _clean(row: dict) -> dict:
    tally = {name: row[f"t_{name}"] for name in TALLY_COLUMNS}
    tally.update(ticket_id=row["id"], repeat_sub_type_id=0, repeat_gap=0)
    return tally


def repeat_gaps(complaints: Iterable[dict], history: Iterable[dict]) -> dict[int, tuple[int, int]]:
    """ticket id → (gap in whole days, rounded up; the sub-type when matched by it) for the complaints among
    `complaints` (dicts with id, customer_id, created_at, cause_id, sub_type_id) that repeat one in `history` within
    MAX_REPEAT_DAYS — the rule of service.complaints: same cause, or (no cause known yet) the same sub-type.

    Rounding up keeps it exact: a repeat within d days, created_at − earlier ≤ d days, is gap ≤ d."""
    by_customer: dict[int, list[dict]] = defaultdict(list)
    for earlier in history:
        by_customer[earlier["customer_id"]].append(earlier)
    gaps = {}
    window = timedelta(days=MAX_REPEAT_DAYS)
    for ticket in complaints:
        cause, sub_type, created = ticket["cause_id"], ticket["sub_type_id"], ticket["created_at"]
        if ticket["customer_id"] is None or (cause is None and sub_type is None):
            continue
        latest = None
        for earlier in by_customer.get(ticket["customer_id"], ()):
            if not created - window <= earlier["created_at"] < created:
                continue
            if cause is not None:
                matches = earlier["cause_id"] == cause or (
                    earlier["cause_id"] is None and sub_type is not None and earlier["sub_type_id"] == sub_type
                )
            else:
                matches = earlier["sub_type_id"] == sub_type
            if matches and (latest is None or earlier["created_at"] > latest):
                latest = earlier["created_at"]
        if latest is not None:
            microseconds = (created - latest) // timedelta(microseconds=1)
            gaps[ticket["id"]] = (-(-microseconds // _DAY_US), 0 if cause is not None else sub_type)
    return gaps


def _history(customer_ids: set[int], start: datetime, end: datetime) -> list[dict]:
    """The complaints of these customers created from `start` to `end` (both included)."""
    if not customer_ids:
        return []
    return list(
        Ticket.objects.filter(
            ticket_type=Kind.COMPLAINT, customer_id__in=customer_ids, created_at__gte=start, created_at__lte=end
        ).values("id", "customer_id", "created_at", "cause_id", "sub_type_id")
    )


def _with_gaps(rows: list[dict]) -> list[dict]:
    """Clean tallies of `rows` with their repeat gaps (one query for the customers' earlier complaints)."""
    tallies = [_clean(row) for row in rows]
    complaints = [
        {**row, "customer_id": row["t_customer_id"], "cause_id": row["t_cause_id"] or None}
        for row in rows
        if row["t_ticket_type"] == Kind.COMPLAINT and row["t_customer_id"] is not None
    ]
    if complaints:
        start = min(row["created_at"] for row in complaints) - timedelta(days=MAX_REPEAT_DAYS)
        end = max(row["created_at"] for row in complaints)
        history = _history({row["customer_id"] for row in complaints}, start, end)
        gaps = repeat_gaps(complaints, history)
        for tally in tallies:
            if tally["ticket_id"] in gaps:
                tally["repeat_gap"], tally["repeat_sub_type_id"] = gaps[tally["ticket_id"]]
                tally["repeat_sub_type_id"] = tally["repeat_sub_type_id"] or 0
    return tallies


# --- incremental ----------------------------------------------------------------------------------------------------


def refresh(ticket_ids: Iterable[int]) -> None:
    """Bring the rollups up to date with these tickets as they are now (call it after the write, in its
    transaction)."""
    ids = set(ticket_ids)
    if not ids:
        return
    with transaction.atomic():
        old = _locked_tallies(ids)
        rows = _tally_rows(Ticket.objects.filter(pk__in=ids))
        later = _later_complaints(rows, old.values()) - ids
        if later:
            old.update(_locked_tallies(later))
            rows += _tally_rows(Ticket.objects.filter(pk__in=later))
        new = {tally["ticket_id"]: tally for tally in _with_gaps(rows)}
        _apply(old, new)


def _locked_tallies(ids: set[int]) -> dict[int, dict]:
    tallies = TicketTally.objects.select_for_update().filter(ticket_id__in=ids)
    return {row["ticket_id"]: row for row in tallies.values("ticket_id", *KEY, *COUNTS, "customer_id")}


def _later_complaints(rows: list[dict], old: Iterable[dict]) -> set[int]:
    """Complaints created after one of these tickets, within MAX_REPEAT_DAYS, of its customer now or before."""
    starts: dict[int, datetime] = {}
    created = {row["id"]: row["created_at"] for row in rows}
    pairs = [(row["t_customer_id"], row["created_at"]) for row in rows if row["t_ticket_type"] == Kind.COMPLAINT]
    pairs += [
        (tally["customer_id"], created.get(tally["ticket_id"]))
        for tally in old
        if tally["ticket_type"] == Kind.COMPLAINT
    ]
    for customer_id, moment in pairs:
        if customer_id is not None and moment is not None:
            starts[customer_id] = min(moment, starts.get(customer_id, moment))
    if not starts:
        return set()
    window = timedelta(days=MAX_REPEAT_DAYS)
    condition = Q()
    for customer_id, moment in starts.items():
        condition |= Q(customer_id=customer_id, created_at__gt=moment, created_at__lte=moment + window)
    return set(Ticket.objects.filter(condition, ticket_type=Kind.COMPLAINT).values_list("pk", flat=True))


def _apply(old: dict[int, dict], new: dict[int, dict]) -> None:
    """Add new − old to the rollups and store the new tallies; a ticket whose day or team changed moves its return
    visits' satisfaction with it."""
    deltas: dict[tuple, Counter] = defaultdict(Counter)
    for tally, sign in [(tally, -1) for tally in old.values()] + [(tally, 1) for tally in new.values()]:
        counts = deltas[tuple(tally[name] for name in KEY)]
        counts["tickets"] += sign
        for name in COUNTS:
            counts[name] += sign * tally[name]
    add_to_rollup(TicketRollup, KEY, ("tickets", *COUNTS), deltas)
    by_month: dict[tuple, Counter] = defaultdict(Counter)
    for key, counts in deltas.items():
        by_month[(key[0].replace(day=1), *key[1:])].update(counts)
    add_to_rollup(TicketMonthRollup, MONTH_KEY, ("tickets", *COUNTS), by_month)
    moved = {
        ticket_id: ((before["day"], before["team_id"]), (new[ticket_id]["day"], new[ticket_id]["team_id"]))
        for ticket_id, before in old.items()
        if ticket_id in new and (before["day"], before["team_id"]) != (new[ticket_id]["day"], new[ticket_id]["team_id"])
    }
    if moved:
        _move_satisfaction(moved)
    changed = [tally for ticket_id, tally in new.items() if old.get(ticket_id) != tally]
    if changed:
        TicketTally.objects.filter(ticket_id__in=[tally["ticket_id"] for tally in changed]).delete()
        TicketTally.objects.bulk_create([TicketTally(**tally) for tally in changed])


def _move_satisfaction(moved: dict[int, tuple[tuple, tuple]]) -> None:
    deltas: dict[tuple, Counter] = defaultdict(Counter)
    for ticket_id, month, score in _completed_visits(ReturnVisit.objects.filter(ticket_id__in=moved)):
        (old_day, old_team), (new_day, new_team) = moved[ticket_id]
        for key, sign in (((old_day, old_team, month), -1), ((new_day, new_team, month), 1)):
            deltas[key]["visits"] += sign
            deltas[key]["satisfaction_sum"] += sign * score
    add_to_rollup(SatisfactionRollup, ("day", "team_id", "month"), ("visits", "satisfaction_sum"), deltas)


def _completed_visits(visits) -> list[tuple[int, date, int]]:
    """(ticket id, local month of completion, satisfaction) of the completed visits with a satisfaction."""
    rows = visits.filter(status=ReturnVisit.Status.COMPLETED, satisfaction__isnull=False).annotate(
        month=TruncMonth("completed_at")
    )
    return [(row[0], _as_date(row[1]), row[2]) for row in rows.values_list("ticket_id", "month", "satisfaction")]


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def visit_completed(visit: ReturnVisit) -> None:
    """A return visit was completed with a satisfaction: count it under its ticket's day and team (its tally)."""
    if visit.status != ReturnVisit.Status.COMPLETED or visit.satisfaction is None:
        return
    tally = TicketTally.objects.select_for_update().filter(ticket_id=visit.ticket_id).values("day", "team_id").first()
    if tally is None:  # a ticket the rollups never saw (written by COPY): rebuild() counts the visit
        return
    month = _as_date(timezone.localtime(visit.completed_at)).replace(day=1)
    add_to_rollup(
        SatisfactionRollup,
        ("day", "team_id", "month"),
        ("visits", "satisfaction_sum"),
        {(tally["day"], tally["team_id"], month): Counter(visits=1, satisfaction_sum=visit.satisfaction)},
    )


def add_to_rollup(model, key: tuple[str, ...], counts: tuple[str, ...], deltas: dict[tuple, Counter]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE SET n = n + excluded.n for every non-zero delta, then drop the rows left
    at zero (SQLite ≥ 3.24 and PostgreSQL both speak it)."""
    rows = [(*k, *(delta[name] for name in counts)) for k, delta in deltas.items() if any(delta.values())]
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [*key, *counts]
    quoted = ", ".join(connection.ops.quote_name(name) for name in columns)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in map(connection.ops.quote_name, counts))
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict = ", ".join(connection.ops.quote_name(name) for name in key)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            cursor.execute(
                f"INSERT INTO {table} ({quoted}) VALUES {', '.join([placeholders] * len(chunk))} "  # noqa: S608
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                [value for row in chunk for value in row],
            )
    emptied = [k for k, delta in deltas.items() if delta[counts[0]] < 0]
    if emptied:  # a group whose last ticket left: drop its row
        keys = Q(*[Q(**dict(zip(key, k, strict=True))) for k in emptied], _connector=Q.OR)
        model.objects.filter(keys, **{counts[0]: 0}).delete()


# --- rebuild --------------------------------------------------------------------------------------------------------
#
# Small units, exact beside concurrent ticket writes. Each unit (one day's tallies, rollup rows and satisfaction; then
# one month's rows) is one transaction that first takes the tally table in EXCLUSIVE mode (PostgreSQL; reads go on).
# Every service write that changes a ticket's figures reaches that table before it commits — refresh() and
# visit_completed() start with SELECT … FOR UPDATE of tallies (ROW SHARE), and hold it until they commit. So while a
# unit holds its lock, each such write has either committed wholly (ticket, tally and rollups: every statement of the
# unit, READ COMMITTED, takes its snapshot after the lock and sees all of it) or waits at its first tally access,
# before it added anything to a rollup (the unit sees none of it, not even an UPDATE of its ticket: uncommitted). The
# unit replaces its day's tallies and rollups by a consistent set (rollup = Σ tallies); the waiting write, once the
# unit commits, locks the tallies the unit stored as its "old" and adds new − old: counted once, whichever state of
# the ticket the unit read. It waited for one unit, not the whole rebuild. No deadlock: the unit's tally INSERTs take
# KEY SHARE on their tickets (foreign key check), which a waiting write's lock on its ticket lets pass — the services
# lock tickets FOR NO KEY UPDATE, never FOR UPDATE (selectors.ticket_get, sla, intake). A month unit sums day rows,
# to which a write adds in the same transaction as to the month rows: under the lock they agree. On SQLite the
# database has one writer: a unit's first statement is a DELETE, so it holds the write lock before it reads anything.


def rebuild(*, date_from: date | None = None, date_to: date | None = None) -> dict:
    """Recompute the rollups and tallies of the tickets created from `date_from` to `date_to` (local days, both
    included; None: from the first / to the last day with a ticket or a rollup row). Idempotent; one transaction per
    day, then one per month the range touches (a month is summed whole from its days).

    Complaints created after the range within MAX_REPEAT_DAYS may repeat ones inside it: include them in the range
    when the tickets inside were changed without the services."""
    first, last = _range(date_from, date_to)
    if date_from is None or date_to is None:
        _drop_months_outside(None if date_from else first, None if date_to else last)
    if first is None or last is None:  # nothing to rebuild on an open end
        return {"tickets": 0, "rollup_rows": TicketRollup.objects.count(), "units": 0}
    count = units = 0
    day = first
    while day <= last:
        count += _rebuild_day(day)
        day += timedelta(days=1)
        units += 1
    month = first.replace(day=1)
    while month <= last:
        _rebuild_month(month)
        month = month_end(month) + timedelta(days=1)
        units += 1
    return {"tickets": count, "rollup_rows": TicketRollup.objects.count(), "units": units}


def _range(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    """The range's days, an open end replaced by the first / last day holding a ticket or a rollup row."""
    if date_from is not None and date_to is not None:
        return date_from, date_to
    created = Ticket.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    days = [timezone.localtime(moment).date() for moment in created.values() if moment is not None]
    for model, column in ((TicketTally, "day"), (TicketRollup, "day"), (SatisfactionRollup, "day")):
        days += [value for value in model.objects.aggregate(Min(column), Max(column)).values() if value is not None]
    if not days:
        return date_from, date_to
    return date_from or min(days), date_to or max(days)


def _drop_months_outside(first: date | None, last: date | None) -> None:
    """Month rows of the months before `first` / after `last` (an open end of the range: no day beyond it holds a
    ticket or a row; both None: none does at all)."""
    conditions, params = [], []
    if first is not None:
        conditions.append(f"{connection.ops.quote_name('month')} < %s")
        params.append(first.replace(day=1))
    if last is not None:
        conditions.append(f"{connection.ops.quote_name('month')} > %s")
        params.append(last)
    where = " OR ".join(conditions) or "1 = 1"
    table = connection.ops.quote_name(TicketMonthRollup._meta.db_table)
    with transaction.atomic():
        _lock_tallies()  # a ticket created meanwhile in a later month keeps its row
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)  # noqa: S608


def _lock_tallies() -> None:
    """The unit's lock (see above); readers of the tallies and the rollups are not held up."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(TicketTally._meta.db_table)} IN EXCLUSIVE MODE")


def _rebuild_day(day: date) -> int:
    """One unit: the tallies, rollup rows and satisfaction of the tickets created on this local day."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)
    tickets = Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
    with transaction.atomic():
        _lock_tallies()
        for model in (TicketTally, TicketRollup, SatisfactionRollup):
            _delete_range(model, "day", day, day)
        count = _insert_tallies(tickets)
        if count:
            _set_repeat_gaps(tickets)
            _insert_rollup("day", day, day)
            _insert_satisfaction(tickets)
    return count


def _rebuild_month(month: date) -> None:
    """One unit: the month's rollup rows summed afresh from its day rows."""
    with transaction.atomic():
        _lock_tallies()
        _delete_range(TicketMonthRollup, "month", month, month)
        _insert_rollup("month", month, month_end(month))


def _delete_range(model, column: str, start: date | None, end: date | None) -> None:
    """One DELETE … WHERE statement (QuerySet.delete() would load every row first: core.tree listens to the
    post_delete of all models)."""
    conditions, params = [], []
    for value, operator in ((start, ">="), (end, "<=")):
        if value is not None:
            conditions.append(f"{connection.ops.quote_name(column)} {operator} %s")
            params.append(value)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}{where}", params)  # noqa: S608


def _insert_tallies(tickets) -> int:
    """INSERT INTO tally SELECT … FROM ticket: the database computes the tallies, Python never sees them."""
    annotated = tickets.order_by().annotate(**{f"t_{name}": expr for name, expr in TALLY_COLUMNS.items()})
    selected = annotated.values_list("id", *(f"t_{name}" for name in TALLY_COLUMNS))
    sql, params = selected.query.sql_with_params()
    columns = ["ticket_id", *TALLY_COLUMNS]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(TicketTally._meta.db_table)} ({', '.join(map(quote, columns))}, "  # noqa: S608
            f"{quote('repeat_sub_type_id')}, {quote('repeat_gap')}) SELECT sub.*, 0, 0 FROM ({sql}) sub",
            params,
        )
        return cursor.rowcount


def _set_repeat_gaps(tickets) -> None:
    """Repeat gaps of the range's complaints, from the customers' complaints up to MAX_REPEAT_DAYS before."""
    complaints = tickets.filter(ticket_type=Kind.COMPLAINT, customer__isnull=False).exclude(
        cause__isnull=True, sub_type__isnull=True
    )
    window = timedelta(days=MAX_REPEAT_DAYS)
    batch: list[dict] = []
    fields = ("id", "customer_id", "created_at", "cause_id", "sub_type_id")
    for row in complaints.order_by("customer_id", "created_at").values(*fields).iterator(chunk_size=10_000):
        if batch and row["customer_id"] != batch[-1]["customer_id"] and len(batch) >= 5_000:
            _store_gaps(batch, window)
            batch = []
        batch.append(row)
    if batch:
        _store_gaps(batch, window)


def _store_gaps(batch: list[dict], window: timedelta) -> None:
    start = min(row["created_at"] for row in batch) - window
    end = max(row["created_at"] for row in batch)
    gaps = repeat_gaps(batch, _history({row["customer_id"] for row in batch}, start, end))
    updates = [
        TicketTally(ticket_id=ticket_id, repeat_gap=gap, repeat_sub_type_id=sub_type or 0)
        for ticket_id, (gap, sub_type) in gaps.items()
    ]
    TicketTally.objects.bulk_update(updates, ["repeat_gap", "repeat_sub_type_id"], batch_size=1_000)


# bucket → (its rollup, the rows it is summed from, a source row's period, the tickets a source row stands for)
_BUCKETS = {
    "day": (TicketRollup, TicketTally, F("day"), Count("ticket_id")),
    "month": (TicketMonthRollup, TicketRollup, TruncMonth("day"), Sum("tickets")),
}


def _insert_rollup(bucket: str, first: date, last: date) -> None:
    """INSERT INTO the bucket's rollup the tallies (for days) or the day rows (for months) of the days from `first`
    to `last`, summed by bucket and key: one statement, run by the database."""
    model, source, period, tickets = _BUCKETS[bucket]
    grouped = (
        source.objects.filter(day__gte=first, day__lte=last)
        .annotate(period=period)
        .values("period", *KEY[1:])
        .annotate(n_tickets=tickets, **{f"n_{name}": Sum(name) for name in COUNTS})
        .order_by()
        .values_list("period", *KEY[1:], "n_tickets", *(f"n_{name}" for name in COUNTS))
    )
    sql, params = grouped.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = [bucket, *KEY[1:], "tickets", *COUNTS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
            f"SELECT * FROM ({sql}) sub",
            params,
        )


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _insert_satisfaction(tickets) -> None:
    """The completed visits of the range's tickets, under their tallies' day and team, by month of completion."""
    visits = ReturnVisit.objects.filter(ticket_id__in=tickets.values("pk"))
    keys = dict(
        (row[0], (row[1], row[2]))
        for row in TicketTally.objects.filter(ticket_id__in=visits.values("ticket_id")).values_list(
            "ticket_id", "day", "team_id"
        )
    )
    deltas: dict[tuple, Counter] = defaultdict(Counter)
    for ticket_id, month, score in _completed_visits(visits):
        day, team_id = keys[ticket_id]
        deltas[(day, team_id, month)]["visits"] += 1
        deltas[(day, team_id, month)]["satisfaction_sum"] += score
    add_to_rollup(SatisfactionRollup, ("day", "team_id", "month"), ("visits", "satisfaction_sum"), deltas)
