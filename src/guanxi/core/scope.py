"""Record scope: the one place that decides which rows a user may see. Every selector goes through here."""

from dataclasses import dataclass

from django.db.models import QuerySet

from guanxi.core.models import OrgUnit
from guanxi.core.roles import ROLE_SCOPES, ScopeLevel, user_roles


@dataclass(frozen=True)
class RecordScope:
    level: ScopeLevel | None  # None: sees nothing
    user_id: int | None
    unit_ids: frozenset[int]
    sees_sensitive: bool


def record_scope(user) -> RecordScope:
    """The widest scope among the user's roles, computed once per request (cached on the user object)."""
    cached = getattr(user, "_guanxi_scope", None)
    if cached is not None:
        return cached
    levels = [ROLE_SCOPES[role] for role in user_roles(user) if role in ROLE_SCOPES]
    level = max(levels) if levels else None
    unit_ids: frozenset[int] = frozenset()
    if level in (ScopeLevel.TEAM, ScopeLevel.BRANCH):  # only these scopes need the user's unit (a query)
        unit = _user_unit(user)
        anchor = unit.branch() if (level == ScopeLevel.BRANCH and unit) else unit
        if anchor is None and unit is not None and level == ScopeLevel.BRANCH:
            anchor = unit  # a unit above branch level sees its whole subtree
        unit_ids = frozenset(anchor.subtree_ids()) if anchor else frozenset()
    scope = RecordScope(
        level=level,
        user_id=user.pk if user.is_authenticated else None,
        unit_ids=unit_ids,
        sees_sensitive=user.is_authenticated and user.has_perm("customers.access_sensitive_customer"),
    )
    user._guanxi_scope = scope
    return scope


def restrict(
    queryset: QuerySet,
    user,
    *,
    owner_field: str = "owner",
    unit_field: str = "org_unit",
    sensitive_field: str | None = None,
) -> QuerySet:
    """Narrow `queryset` to the rows `user` may see. Field names are paths, so related models reuse it."""
    scope = record_scope(user)
    if scope.level is None:
        return queryset.none()
    if scope.level == ScopeLevel.OWN:
        queryset = queryset.filter(**{owner_field: scope.user_id})
    elif scope.level != ScopeLevel.ALL:
        queryset = queryset.filter(**{f"{unit_field}__in": scope.unit_ids})
    if sensitive_field and not scope.sees_sensitive:
        # 敏感客户: without the explicit permission a sensitive record is invisible, even to its owner.
        queryset = queryset.filter(**{sensitive_field: False})
    return queryset


def allows(user, *, owner_id: int | None, unit_id: int | None, sensitive: bool = False) -> bool:
    """restrict() for one row whose owner, unit and sensitive flag are at hand: whether `user` may see it. For a read
    that has already loaded the row (the 360 view's panels) and must not ask the database again.
    tests/core/test_scope_sql.py checks it agrees with restrict() for every scope."""
    scope = record_scope(user)
    if scope.level is None or (sensitive and not scope.sees_sensitive):
        return False
    if scope.level == ScopeLevel.OWN:
        return owner_id == scope.user_id
    return scope.level == ScopeLevel.ALL or unit_id in scope.unit_ids


def _user_unit(user) -> OrgUnit | None:
    if not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None)
    return profile.org_unit if profile else None


def restrict_sql(user, *, owner_column: str, unit_column: str) -> tuple[str, list] | None:
    """restrict() as an SQL condition on a table's owner and unit columns, for the few hot reads written as SQL (the
    kanban board: compiling its ORM queries cost more Python than PostgreSQL spent running them). (condition,
    params) — an empty condition for scope ALL — or None when the user sees nothing. The sensitive-customer rule stays
    with the caller: a column or a subquery depending on the table. tests/core/test_scope_sql.py checks it selects
    what restrict() does for every scope."""
    scope = record_scope(user)
    if scope.level is None:
        return None
    if scope.level == ScopeLevel.OWN:
        return f"{owner_column} = %s", [scope.user_id]
    if scope.level == ScopeLevel.ALL:
        return "", []
    if not scope.unit_ids:  # restrict's `IN ()`: Django answers nothing
        return None
    return sql_in(unit_column, sorted(scope.unit_ids))


def sql_in(column: str, values) -> tuple[str, list]:
    """`column IN (%s, …)` with one placeholder per value (SQLite has no arrays); `values` must not be empty."""
    values = list(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values
