"""Every read of tickets, already narrowed to what the user may see.

A user sees a ticket when
- its team is in the user's record scope (team / branch / all; service agents see their branch), or
- the user owns it, received it, or a pending hand-over is addressed to the user or to a team in the user's scope, or
- (account managers, scope "own") its customer is theirs;
and never, without customers.access_sensitive_customer, a ticket of a sensitive customer.
"""

import operator
from functools import reduce

from django.db import connection, connections, router
from django.db.models import BooleanField, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from guanxi.core.labels import choice_labels
from guanxi.core.masking import phone_for
from guanxi.core.models import OrgUnit
from guanxi.core.names import full_name
from guanxi.core.pagination import Page, _typed, decode_cursor, encode_cursor
from guanxi.core.roles import ScopeLevel
from guanxi.core.scope import RecordScope, record_scope, sql_in
from guanxi.core.search_statements import Slot, compile_statement, run_statement, stored
from guanxi.core.selectors import users_in_scope
from guanxi.service.filters import TicketFilters
from guanxi.service.models import Handover, Holiday, Ticket, TicketCause, TicketEvent, TicketSubType, TicketType
from guanxi.service.models.config import Kind
from guanxi.service.reschedule import move_note

# The ticket's own columns in a list row (API TicketOut, the queue's _rows.html); related rows come as names.
ROW_FIELDS = (
    "id", "number", "customer_id", "contact_id", "caller_name", "caller_phone", "caller_address", "channel",
    "ticket_type", "sub_type_id", "priority", "subject", "description", "status", "sla_grade", "around_the_clock",
    "response_due_at", "resolution_due_at", "sla_due_at", "sla_state", "paused_at", "responded_at", "resolved_at",
    "closed_at", "response_breached", "resolution_breached", "resolution", "cause_id", "created_at", "version",
    "receiver_id", "owner_id", "team_id",
)  # fmt: skip


def ticket_queryset(*, user, team_id: int | None = None) -> QuerySet[Ticket]:
    """All tickets `user` may see (see the module docstring); with `team_id`, only that team's.

    A team inside the user's record scope (or any team for scope "all") needs no per-row visibility test: every one
    of its tickets is visible through the team rule, so the ORs (owner, receiver, the hand-over EXISTS) are left out
    of the SQL — the team queue's plan is then one index range scan of ticket_team_queue_idx, cheap to plan.
    """
    scope = record_scope(user)
    tickets = Ticket.objects.all()
    if scope.level is None:
        return tickets.none()
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    whole_team = team_id is not None and (scope.level == ScopeLevel.ALL or team_id in scope.unit_ids)
    if scope.level != ScopeLevel.ALL and not whole_team:
        tickets = tickets.filter(reduce(operator.or_, _visible_through(user, scope)))
    return _without_sensitive(tickets, scope)


def ticket_scope_parts(*, user) -> list[QuerySet[Ticket]]:
    """Querysets whose union is ticket_queryset(user), each narrowed by an indexed column, for reads that stop at a
    LIMIT (the search). An account manager's rule is an OR over their customers' tickets, their own, the ones they
    received and the ones handed to them: no index serves it, so PostgreSQL read a frequent word's matches until ten
    happened to be theirs (1.4 s over 1,000,000 tickets); each part alone is an index scan (1–6 ms). The other scopes
    see whole teams: one part. tests/service/test_ticket_search.py checks the union against ticket_queryset."""
    scope = record_scope(user)
    if scope.level != ScopeLevel.OWN:
        return [ticket_queryset(user=user)]
    tickets = _without_sensitive(Ticket.objects.all(), scope)
    return [tickets.filter(condition) for condition in _visible_through(user, scope)]


def _visible_through(user, scope: RecordScope) -> list[Q]:
    """The ways a ticket is visible to a user with scope "own", "team" or "branch" (the module docstring's rules):
    ticket_queryset ORs them, ticket_scope_parts runs one query per condition."""
    pending = Handover.objects.filter(ticket_id=OuterRef("pk"), status=Handover.Status.PENDING)
    if scope.level == ScopeLevel.OWN:
        mine = Q(customer__owner_id=user.pk)
        addressed = pending.filter(to_user_id=user.pk)
    else:
        mine = Q(team_id__in=scope.unit_ids)
        addressed = pending.filter(Q(to_user_id=user.pk) | Q(to_team_id__in=scope.unit_ids))
    return [mine, Q(owner_id=user.pk), Q(receiver_id=user.pk), Q(Exists(addressed))]


def _without_sensitive(tickets: QuerySet[Ticket], scope: RecordScope) -> QuerySet[Ticket]:
    if scope.sees_sensitive:
        return tickets
    return tickets.filter(Q(customer__isnull=True) | Q(customer__sensitive=False))


def ticket_rows(*, user, filters: TicketFilters, cursor: str | None = None, limit: int = 50) -> Page:
    """Tickets by SLA due time (most urgent first), keyset-paginated, as plain rows (the API list and the queue page);
    a team's queue uses ticket_team_queue_idx. Customer, receiver, owner and team come as names, labels and the
    caller's phone as `user` may see them (see _finish). Building 50 tickets with four related instances each, then
    reading them back through per-item schemas, was most of the queue's Python time; values() rows cost a fraction.

    The cursor is one row comparison, (sla_due_at, id) > (value, id), rather than keyset_page's
    `due >= v AND (due > v OR (due = v AND id > i))`: PostgreSQL estimates the latter as the product of three clauses
    that are not independent of `status IN (open)` (open tickets are the ones due around now), guessed 28 rows where
    10,000 matched at 1,000,000 tickets, and sorted the whole rest of the queue (570 ms) instead of reading 51 rows of
    the index in order. The row comparison is one index condition with a sane estimate.

    The page's statement is compiled once per user scope and filters (core.search_statements) and then run with the
    cursor's values as its parameters: building and compiling the queryset — scope, filters, 40 columns, four joins,
    the ordering — cost more Python than the rest of the request. A text search (`q`, whose LIKE pattern Django
    rewrites) or a filter on one owner or customer (values without bound, each its own statement) is built each time.
    """
    after = _typed(Ticket, "sla_due_at", *decode_cursor(cursor)) if cursor else None
    alias = router.db_for_read(Ticket)
    arguments = [connections[alias].ops.adapt_datetimefield_value(after[0]), after[1]] if after else []
    if filters.q or filters.owner_id is not None or filters.customer_id is not None:
        slots = tuple(arguments) or None
        rows = list(_page_queryset(user, filters, slots)[: limit + 1])
    else:
        key = ("service.ticket_rows", alias, record_scope(user), filters.model_dump_json(), bool(after), limit)
        slots = (Slot(0), Slot(1)) if after else None
        statement = stored(
            key, lambda: compile_statement(_page_queryset(user, filters, slots)[: limit + 1], slots or [])
        )
        rows = run_statement(statement, alias, arguments) if statement else []
    next_cursor = encode_cursor(rows[limit - 1]["sla_due_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    rows = rows[:limit]
    _finish(user, rows)
    return Page(items=rows, next=next_cursor)


def _page_queryset(user, filters: TicketFilters, after: tuple | None) -> QuerySet:
    """The page's rows in queue order; `after`: the cursor's (due, id), as values or as placeholders."""
    # ticket_queryset narrows to the team itself (its scope shortcut): the filters need not say it a second time.
    others = filters.model_copy(update={"team_id": None})
    queryset = _rows(others.apply(ticket_queryset(user=user, team_id=filters.team_id)))
    if after:
        table = Ticket._meta.db_table
        queryset = queryset.filter(
            RawSQL(  # noqa: S611  (table and columns from the model, values bound as parameters)
                f'("{table}"."sla_due_at", "{table}"."id") > (%s, %s)', after, output_field=BooleanField()
            )
        )
    return queryset.order_by("sla_due_at", "id")


def _rows(queryset: QuerySet[Ticket]) -> QuerySet:
    return queryset.values(
        *ROW_FIELDS,
        customer_name=F("customer__name"),
        receiver_username=F("receiver__username"),
        receiver_first_name=F("receiver__first_name"),
        receiver_last_name=F("receiver__last_name"),
        owner_username=F("owner__username"),
        owner_first_name=F("owner__first_name"),
        owner_last_name=F("owner__last_name"),
        team_name=F("team__name"),
    )


def _finish(user, rows: list[dict]) -> list[dict]:
    """The row as TicketOut shows it: people and team as {id, name}, labels, an unknown caller's phone masked for
    roles without core.view_sensitive_fields (as api.ticket_data does for one ticket)."""
    type_labels, status_labels = choice_labels(Kind), choice_labels(Ticket.Status)
    for row in rows:
        row["receiver"] = _person(row, "receiver")
        row["owner"] = _person(row, "owner")
        team_name = row.pop("team_name")
        row["team"] = {"id": row["team_id"], "name": team_name} if row["team_id"] is not None else None
        if row["caller_phone"]:
            row["caller_phone"] = phone_for(user, row["caller_phone"])
        row["ticket_type_label"] = type_labels.get(row["ticket_type"], row["ticket_type"])
        row["status_label"] = status_labels.get(row["status"], row["status"])
    return rows


def _person(row: dict, role: str) -> dict:
    """{id, name} of a user joined into `row` as <role>_username/_first_name/_last_name (User.get_full_name)."""
    username, first, last = row.pop(f"{role}_username"), row.pop(f"{role}_first_name"), row.pop(f"{role}_last_name")
    return {"id": row[f"{role}_id"], "name": full_name(username, first, last)}


def ticket_get(*, user, ticket_id: int, for_update: bool = False) -> Ticket:
    """One ticket; 404 when absent or outside the user's scope. `for_update` locks the row (services)."""
    tickets = ticket_queryset(user=user).filter(pk=ticket_id)
    if for_update:
        # Lock only the ticket row (the joins of the scope must not be locked, and PostgreSQL refuses nullable ones).
        ids = list(tickets.values_list("pk", flat=True))
        if not ids:
            raise Http404
        # NO KEY UPDATE: rows referencing the ticket (a rebuild's tallies) still pass their foreign key check.
        Ticket.objects.select_for_update(no_key=True).filter(pk=ids[0]).values_list("pk").first()
        tickets = Ticket.objects.filter(pk=ids[0])
    ticket = tickets.select_related("customer", "contact", "owner", "receiver", "team", "sub_type", "cause").first()
    if ticket is None:
        raise Http404
    return ticket


def ticket_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and ticket_queryset(user=user).filter(pk=int(object_id)).exists()


def handover_chain(*, ticket: Ticket) -> list[Handover]:
    """Every hand-over of a visible ticket, oldest first (the first-contact chain)."""
    return list(
        ticket.handovers.select_related("from_user", "to_user", "to_team", "decided_by").order_by("requested_at", "id")
    )


def pending_handover(*, ticket: Ticket) -> Handover | None:
    return (
        ticket.handovers.filter(status=Handover.Status.PENDING)
        .select_related("from_user", "to_user", "to_team")
        .first()
    )


def ticket_events(*, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's history, oldest first; a deadline move's note is written from its details in the reader's
    language (the job that moved it ran in a worker's)."""
    events = list(ticket.events.select_related("actor").order_by("at", "id"))
    for event in events:
        if event.kind == TicketEvent.Kind.DEADLINE_MOVED and event.details:
            event.note = move_note(event.details)
    return events


def ticket_types() -> QuerySet[TicketType]:
    """The types with their active sub-types and causes (two prefetch queries)."""
    return TicketType.objects.filter(active=True).prefetch_related(
        Prefetch("sub_types", queryset=TicketSubType.objects.filter(active=True)),
        Prefetch("causes", queryset=TicketCause.objects.filter(active=True)),
    )


def general_causes() -> QuerySet[TicketCause]:
    return TicketCause.objects.filter(active=True, ticket_type__isnull=True)


def causes_for(*, ticket_type: str) -> list[TicketCause]:
    """The causes a ticket of `ticket_type` may be resolved with: the type's own, then the general ones."""
    return list(TicketCause.objects.filter(active=True, ticket_type__code=ticket_type)) + list(general_causes())


def active_sub_types() -> QuerySet[TicketSubType]:
    """Every active sub-type with its type (the ticket form's choices)."""
    return TicketSubType.objects.filter(active=True).select_related("ticket_type")


def handover_teams(*, user) -> QuerySet[OrgUnit]:
    """The units of the colleagues `user` may hand work to (the team pickers of the queue and the ticket page)."""
    return OrgUnit.objects.filter(members__user__in=users_in_scope(user=user)).distinct().order_by("path")


def holiday_list(*, year: int | None = None) -> QuerySet[Holiday]:
    holidays = Holiday.objects.all()
    if year is not None:
        holidays = holidays.filter(date__year=year)
    return holidays


def tickets_of_customer(*, user, customer, limit: int = 10) -> list[Ticket]:
    """The latest tickets of `customer` the user may see, for the ticket page's summary (number, subject, status).
    The caller read the customer through its scope check (customers.selectors.customer_get): customer_tickets then
    reads its tickets without the scope's ORs when the rules let the user see all of them."""
    return list(
        customer_tickets(user=user, customer=customer)
        .only("id", "number", "subject", "status")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_tickets(*, user, customer) -> QuerySet[Ticket]:
    """ticket_queryset(user) narrowed to `customer` (with its owner_id and sensitive flag loaded): the 360 view's
    tickets, timeline and satisfaction panels, the ticket page's recent tickets.

    What the customer settles is decided here rather than in SQL: its sensitive flag (no join to the customer) and,
    for an account manager, whether it is theirs. When the rules let the user see every ticket of this customer —
    scope "all", or an account manager's own customer — the statement is the customer's tickets alone. Otherwise
    (team leads, branch managers, agents, another's customer) the ticket's team, owner and receiver are tested, and a
    pending hand-over to the user or their teams through an IN over this customer's hand-overs written in SQL: the
    rule's EXISTS and customer join cost each of the three panels 0.5 ms of Python for a team lead, more than
    reading the customer's few tickets. tests/service/test_customer_tickets.py checks it against the full rule for
    every user and customer.
    """
    scope = record_scope(user)
    if scope.level is None or (customer.sensitive and not scope.sees_sensitive):
        return Ticket.objects.none()
    tickets = Ticket.objects.filter(customer_id=customer.pk)
    if sees_all_tickets_of(user=user, customer=customer):
        return tickets
    handed_over = RawSQL(*_handed_over(user, scope, customer))  # noqa: S611 - table names from the models, values bound
    conditions = [Q(owner_id=user.pk), Q(receiver_id=user.pk), Q(pk__in=handed_over)]
    if scope.level != ScopeLevel.OWN:  # an account manager's customer rule was settled above: not theirs
        conditions.insert(0, Q(team_id__in=scope.unit_ids))
    return tickets.filter(reduce(operator.or_, conditions))


def sees_all_tickets_of(*, user, customer) -> bool:
    """Whether `user` sees every ticket of `customer` (owner_id and sensitive loaded): scope "all", or an account
    manager's own customer, and not a sensitive customer hidden from them. customer_tickets is then the customer's
    tickets alone, and a read joined to the ticket anyway may say ticket__customer_id instead of an IN over it."""
    scope = record_scope(user)
    if customer.sensitive and not scope.sees_sensitive:
        return False
    return scope.level == ScopeLevel.ALL or (scope.level == ScopeLevel.OWN and customer.owner_id == user.pk)


def _handed_over(user, scope: RecordScope, customer) -> tuple[str, list]:
    """The customer's tickets with a pending hand-over to `user` or (scopes above "own") to a team in their scope:
    _visible_through's EXISTS as an uncorrelated subquery, which needs no alias of the outer query (the satisfaction
    panel reads customer_tickets inside an IN). It reads the customer's tickets, then each one's pending hand-over
    (one_pending_handover): never a team's whole hand-over history."""
    quote = connection.ops.quote_name
    handovers, tickets = quote(Handover._meta.db_table), quote(Ticket._meta.db_table)
    addressed, params = "h.to_user_id = %s", [user.pk]
    if scope.level != ScopeLevel.OWN and scope.unit_ids:
        teams, units = sql_in("h.to_team_id", sorted(scope.unit_ids))
        addressed, params = f"{addressed} OR {teams}", [*params, *units]
    sql = (
        f"SELECT h.ticket_id FROM {handovers} h JOIN {tickets} t ON t.id = h.ticket_id "  # noqa: S608 - table names from the models, values bound
        f"WHERE t.customer_id = %s AND h.status = %s AND ({addressed})"
    )
    return sql, [customer.pk, Handover.Status.PENDING, *params]
