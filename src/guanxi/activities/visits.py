"""Visit plans (D2, 每月拜访任务): how often each customer grade must be visited, plan against done per account
manager and team for a month, and the customers whose visit is overdue.

A rule says "`visits` visits every `period_months` months" for a grade (company default) or for one manager's customers
of a grade (override). Without any rule row the built-in defaults apply: key customers monthly, the others quarterly.

- Plan of a manager for a month, per grade: ceil(customers of that grade × visits / period_months) — a quarterly
  customer weighs a third of a visit a month, so 10 quarterly customers make 4 visits a month.
- Done: visit activities marked done in that month by the manager (the activity's owner), counted under the grade of
  the visited customer.
- Overdue: the customer's last done visit (or, never visited, its creation) is older than its interval,
  ceil(period_months × 365/12 / visits) days: 31 days monthly, 92 days quarterly. The last done visit is stored on
  the customer (Customer.last_visit_at, kept by the activity services through activities.last_visits).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, F, Q, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.calendar import local_midnight, team_members
from guanxi.activities.models import Activity, VisitRule
from guanxi.core import audit
from guanxi.core.errors import StaleVersion
from guanxi.core.permissions import require
from guanxi.core.selectors import users_in_scope
from guanxi.customers.models import Customer

DEFAULT_RULES = {  # grade → (visits, period_months)
    Customer.Grade.KEY: (1, 1),
    Customer.Grade.POTENTIAL: (1, 3),
    Customer.Grade.GENERAL: (1, 3),
}
GRADES = [grade for grade, _label in Customer.Grade.choices]
PERIOD_CHOICES = (1, 2, 3, 4, 6, 12)  # divisors of 12: periods aligned to the calendar year


@dataclass(frozen=True)
class Rule:
    grade: str
    visits: int
    period_months: int
    owner_id: int | None = None

    @property
    def interval(self) -> timedelta:
        return timedelta(days=math.ceil(self.period_months * 365 / 12 / self.visits))

    def monthly_plan(self, customers: int) -> int:
        return math.ceil(customers * self.visits / self.period_months)

    @classmethod
    def of(cls, row: VisitRule) -> "Rule":
        return cls(row.grade, row.visits, row.period_months, row.owner_id)


@dataclass
class PlanRow:
    """Plan against done of one manager (or a team total) for a month, overall and per grade."""

    user_id: int | None
    name: str
    unit_id: int | None
    unit_name: str
    planned: int = 0
    done: int = 0
    grades: dict[str, dict[str, int]] = field(default_factory=dict)  # grade → {"customers", "planned", "done"}

    @property
    def rate(self) -> float | None:
        return round(self.done / self.planned, 3) if self.planned else None


# --- rules ---------------------------------------------------------------------------------------------------------


def effective_rules(stored: list[VisitRule] | None = None) -> tuple[dict[str, Rule], dict[tuple[str, int], Rule]]:
    """(defaults by grade, overrides by (grade, owner id)): the stored rules over the built-in defaults. Pass `stored`
    when the rows are already read (the visit plan page shows them too)."""
    defaults = {grade: Rule(grade, *DEFAULT_RULES[grade]) for grade in GRADES}
    overrides: dict[tuple[str, int], Rule] = {}
    for row in VisitRule.objects.all() if stored is None else stored:
        rule = Rule.of(row)
        if row.owner_id is None:
            defaults[row.grade] = rule
        else:
            overrides[(row.grade, row.owner_id)] = rule
    return defaults, overrides


def rule_for(grade: str, owner_id: int | None, rules=None) -> Rule:
    defaults, overrides = rules or effective_rules()
    return overrides.get((grade, owner_id)) or defaults[grade]


def visit_rule_list() -> list[VisitRule]:
    return list(VisitRule.objects.select_related("owner").order_by("grade", "owner__username"))


def rules_in_force(stored: list[VisitRule] | None = None) -> list[tuple[Rule, VisitRule | None]]:
    """Each grade's default, then each override, with the stored row behind it (None: a built-in default)."""
    stored = visit_rule_list() if stored is None else stored
    defaults, overrides = effective_rules(stored)
    rows = {(row.grade, row.owner_id): row for row in stored}
    return [(defaults[grade], rows.get((grade, None))) for grade in GRADES] + [
        (rule, rows.get(key)) for key, rule in sorted(overrides.items())
    ]


def visit_rule_set(
    *, actor, grade: str, visits: int, period_months: int, owner_id: int | None = None, version: int | None = None
) -> VisitRule:
    """Create or change the rule of a grade (owner None: the company default) — `version` is required to change an
    existing rule, so two administrators editing the same rule do not overwrite each other."""
    require(actor, "activities.change_visitrule")
    if owner_id is not None and not users_in_scope(user=actor).filter(pk=owner_id).exists():
        raise ValidationError({"owner_id": _("No such user in your scope.")})
    with transaction.atomic():
        rule = VisitRule.objects.select_for_update().filter(grade=grade, owner_id=owner_id).first()
        creating = rule is None
        if creating:
            rule = VisitRule(grade=grade, owner_id=owner_id)
        elif version is None:
            raise ValidationError({"version": _("This field is required.")})
        elif rule.version != version:
            raise StaleVersion(rule.version)
        before = {} if creating else audit.snapshot(rule)
        rule.visits, rule.period_months = visits, period_months
        rule.full_clean(validate_unique=False)
        if not creating:
            rule.version += 1
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:  # a concurrent create of the same rule
            raise StaleVersion from exc
        changes = audit.diff(before, audit.snapshot(rule))
        audit.record(actor=actor, action="create" if creating else "update", instance=rule, changes=changes)
    return rule


def visit_rule_delete(*, actor, rule_id: int) -> None:
    """Remove an override or a stored default (the built-in default applies again)."""
    require(actor, "activities.delete_visitrule")
    with transaction.atomic():
        rule = VisitRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise Http404
        audit.record(actor=actor, action="delete", instance=rule, changes=audit.diff(audit.snapshot(rule), {}))
        rule.delete()


# --- plan against done ---------------------------------------------------------------------------------------------


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first), local_midnight(following)


def managers_for(*, user, owner_id: int | None = None, team_id: int | None = None):
    """The managers a plan covers: one (must be in scope), a team, or everyone the user sees."""
    if team_id is not None and owner_id is None:
        return team_members(user=user, team_id=team_id)
    people = users_in_scope(user=user)
    if owner_id is not None:
        people = people.filter(pk=owner_id)
        if not people.exists():
            raise Http404
    return people


def visit_plan(*, user, month: date, owner_id: int | None = None, team_id: int | None = None, rules=None) -> dict:
    """Plan vs done for `month`: {"managers": [PlanRow], "teams": [PlanRow], "total": PlanRow}. Four queries
    (managers, rules unless given, customers, done visits), whatever the number of managers and customers."""
    from guanxi.customers.selectors import customer_queryset

    people = {person.pk: person for person in managers_for(user=user, owner_id=owner_id, team_id=team_id)}
    start, end = month_bounds(month)
    rules = rules or effective_rules()
    customer_counts = (
        customer_queryset(user=user)
        .filter(owner_id__in=list(people), archived_at__isnull=True, merged_into__isnull=True)
        .values("owner_id", "grade")
        .annotate(n=Count("id"))
        .order_by()
    )
    done_counts = (
        Activity.objects.filter(
            owner_id__in=list(people),
            kind=Activity.Kind.VISIT,
            status=Activity.Status.DONE,
            happened_at__gte=start,  # = done_at for a done activity; served by (owner, happened_at)
            happened_at__lt=end,
            customer__isnull=False,
        )
        .values("owner_id", "customer__grade")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows: dict[int, PlanRow] = {}

    def row_of(user_id: int) -> PlanRow:
        if user_id not in rows:
            person = people[user_id]
            unit = getattr(getattr(person, "profile", None), "org_unit", None)
            rows[user_id] = PlanRow(
                user_id=user_id,
                name=person.get_full_name() or person.username,
                unit_id=unit.pk if unit else None,
                unit_name=unit.name if unit else "",
                grades={grade: {"customers": 0, "planned": 0, "done": 0} for grade in GRADES},
            )
        return rows[user_id]

    for item in customer_counts:
        row = row_of(item["owner_id"])
        planned = rule_for(item["grade"], item["owner_id"], rules).monthly_plan(item["n"])
        row.grades[item["grade"]]["customers"] += item["n"]
        row.grades[item["grade"]]["planned"] += planned
        row.planned += planned
    for item in done_counts:
        row = row_of(item["owner_id"])
        row.grades[item["customer__grade"]]["done"] += item["n"]
        row.done += item["n"]
    managers = sorted(rows.values(), key=lambda r: (r.unit_name, r.name))
    return {"managers": managers, "teams": _totals_by_team(managers), "total": _total(managers, _("Total"))}


def _totals_by_team(managers: list[PlanRow]) -> list[PlanRow]:
    teams: dict[int | None, list[PlanRow]] = {}
    for row in managers:
        teams.setdefault(row.unit_id, []).append(row)
    totals = []
    for unit_id, members in teams.items():
        total = _total(members, members[0].unit_name)
        total.unit_id = unit_id
        totals.append(total)
    return sorted(totals, key=lambda r: r.name)


def _total(rows: list[PlanRow], name: str) -> PlanRow:
    total = PlanRow(
        user_id=None,
        name=name,
        unit_id=None,
        unit_name=name,
        grades={grade: {"customers": 0, "planned": 0, "done": 0} for grade in GRADES},
    )
    for row in rows:
        total.planned += row.planned
        total.done += row.done
        for grade, numbers in row.grades.items():
            for key, value in numbers.items():
                total.grades[grade][key] += value
    return total


# --- overdue -------------------------------------------------------------------------------------------------------

# Above this many (manager, grade) pairs the list is one query over all of them instead of one ordered read each.
MAX_OVERDUE_BRANCHES = 300


def overdue_visits(
    *,
    user,
    owner_id: int | None = None,
    team_id: int | None = None,
    now: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    rules=None,
) -> list[Customer]:
    """Customers (in the user's scope) whose last done visit is older than their rule's interval, most overdue first.
    Each carries `last_visit` (None: never visited), `due_at` and `days_overdue`.

    The last visit is stored on the customer (Customer.last_visit_at, kept by the activity services). On PostgreSQL
    the ids come from one UNION ALL of an ordered LIMIT per (manager, grade), each a range of customer_visit_due_idx
    (owner, grade, COALESCE(last_visit_at, created_at), id) that stops after offset + limit rows, so a team of 163,000
    customers reads a few thousand index entries; then those customers are read in order. SQLite (no LIMIT inside a
    UNION) and very large scopes take one query over all the managers' customers."""
    from guanxi.customers.selectors import customer_queryset

    now = now or timezone.now()
    managers = list(managers_for(user=user, owner_id=owner_id, team_id=team_id).values_list("pk", flat=True))
    rules = rules or effective_rules()
    live = (
        customer_queryset(user=user)
        .filter(archived_at__isnull=True, merged_into__isnull=True)
        .annotate(last_visit=F("last_visit_at"), since=Coalesce(F("last_visit_at"), F("created_at")))
    )
    pairs = [(manager, grade) for manager in managers for grade in GRADES]
    if not pairs:
        return []
    overdue = Q()
    for manager, grade in pairs:
        overdue |= Q(owner_id=manager, grade=grade, since__lt=now - rule_for(grade, manager, rules).interval)
    if connections[live.db].features.supports_slicing_ordering_in_compound and len(pairs) <= MAX_OVERDUE_BRANCHES:
        # A pair's overdue customers are the start of its order by `since`, so each branch takes its first
        # offset + limit (no date condition: with one, the planner misjudged how many rows match and sorted them all).
        branches = [
            live.filter(owner_id=manager, grade=grade)
            .order_by("since", "id")
            .values_list("id", flat=True)[: offset + limit]
            for manager, grade in pairs
        ]
        customers = live.filter(pk__in=list(branches[0].union(*branches[1:], all=True))).filter(overdue)
    else:
        customers = live.filter(owner_id__in=managers).filter(overdue)
    found = list(customers.order_by("since", "id")[offset : offset + limit])
    prefetch_related_objects(found, "owner")
    for customer in found:
        customer.due_at = customer.since + rule_for(customer.grade, customer.owner_id, rules).interval
        customer.days_overdue = (now - customer.due_at).days
    return found
