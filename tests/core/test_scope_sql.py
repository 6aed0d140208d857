"""core.scope.restrict_sql, the record scope as an SQL condition for the reads written as SQL (the kanban board), and
core.scope.allows, the same rule for one row already loaded (the 360 view's panels), select exactly the rows
restrict() does, for every role (own, team, branch, all, none), sensitive records included."""

import pytest
from django.db import connection

from guanxi.core.scope import allows, restrict, restrict_sql, sql_in
from guanxi.customers.models import Customer
from tests.conftest import USERS, fresh, make_customer

pytestmark = pytest.mark.django_db


def _rows_by_sql(user) -> set[int]:
    scope = restrict_sql(user, owner_column="c.owner_id", unit_column="c.org_unit_id")
    if scope is None:
        return set()
    condition, params = scope
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id FROM customers_customer c WHERE {condition or '1 = 1'}", params)
        return {row[0] for row in cursor.fetchall()}


def _customers(users) -> None:
    for owner in (users.am1, users.am2, users.am3, users.lead1, users.bm2):
        make_customer(users.admin, owner_id=owner.pk)


@pytest.mark.parametrize("who", sorted(USERS))
def test_it_selects_what_restrict_selects(users, who):
    _customers(users)
    user = fresh(getattr(users, who))

    assert _rows_by_sql(user) == set(restrict(Customer.objects.all(), user).values_list("pk", flat=True))


@pytest.mark.parametrize("who", sorted(USERS))
def test_allows_agrees_with_restrict_row_by_row(users, who):
    _customers(users)
    make_customer(users.admin, owner_id=users.am1.pk, sensitive=True)
    make_customer(users.admin, owner_id=users.lead1.pk, sensitive=True)
    user = fresh(getattr(users, who))
    visible = set(restrict(Customer.objects.all(), user, sensitive_field="sensitive").values_list("pk", flat=True))

    allowed = {
        customer.pk
        for customer in Customer.objects.all()
        if allows(user, owner_id=customer.owner_id, unit_id=customer.org_unit_id, sensitive=customer.sensitive)
    }

    assert allowed == visible
    assert Customer.objects.count() == 7


def test_the_scopes_it_writes_are_narrower_for_narrower_roles(users):
    _customers(users)
    own, team, branch, everything = (_rows_by_sql(fresh(u)) for u in (users.am1, users.lead1, users.bm1, users.admin))

    assert own < team < branch < everything


def test_a_team_scope_without_a_unit_sees_nothing(users):
    make_customer(users.admin, owner_id=users.am1.pk)
    lead = fresh(users.lead1)
    lead.profile.org_unit = None
    lead.profile.save(update_fields=["org_unit"])

    assert restrict_sql(fresh(users.lead1), owner_column="owner_id", unit_column="org_unit_id") is None
    assert not restrict(Customer.objects.all(), fresh(users.lead1)).exists()


def test_sql_in_binds_one_parameter_per_value():
    assert sql_in("t.x", [3, 1]) == ("t.x IN (%s, %s)", [3, 1])
