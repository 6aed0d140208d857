"""Lock order of the activity services against the customer-wide writes (PostgreSQL only: SQLite serialises writers).

Completing a visit used to lock the activity (its UPDATE), then the customer (the last-visit recount, a follow-up
task's insert); a merge locks the customers, then the merged customer's activities: the opposite order, a deadlock
answered 409 "try again" in about one race of three. Now every write takes the customers first
(activities.last_visits.lock_customers). Each thread opens its own connection and works on committed data."""

import pytest

from guanxi.activities import services
from guanxi.activities.models import Activity
from guanxi.customers import services as customer_services
from guanxi.customers.merge import customer_merge
from guanxi.customers.models import Customer
from tests.activities.factories import make_activity
from tests.conftest import fresh, make_customer, race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROUNDS = 15


def _complete(user, visit: Activity, note: str):
    return lambda: services.activity_complete(
        actor=fresh(user), activity_id=visit.pk, version=visit.version, outcome=note, next_step=f"回访{note}"
    )


def _merge(user, survivor: Customer, merged: Customer):
    return lambda: customer_merge(
        actor=fresh(user), survivor_id=survivor.pk, merged_id=merged.pk, survivor_version=1, merged_version=1
    )


def _transfer(user, customer: Customer, *, to_user):
    return lambda: customer_services.customer_transfer(
        actor=fresh(user), from_user_id=customer.owner_id, to_user_id=to_user.pk, customer_ids=[customer.pk]
    )


def _last_visit(customer: Customer):
    return Customer.objects.values_list("last_visit_at", flat=True).get(pk=customer.pk)


def _assert_done_with_follow_up(visit: Activity, customer: Customer) -> Activity:
    done = Activity.objects.get(pk=visit.pk)
    assert done.status == Activity.Status.DONE and done.customer_id == customer.pk
    assert Activity.objects.filter(follow_up_of=done, kind=Activity.Kind.TASK, customer=customer).count() == 1
    assert _last_visit(customer) == done.happened_at
    return done


def test_completing_a_visit_while_its_customer_is_merged_away_neither_deadlocks_nor_loses_the_visit(users):
    failures = []
    for i in range(ROUNDS):
        survivor = make_customer(users.am1, grade="key")
        merged = make_customer(users.am1, grade="key")
        visit = make_activity(users.am1, merged)
        racers = [_complete(users.bm1, visit, str(i)), _merge(users.bm1, survivor, merged)]
        failures += [r for r in race(*(racers if i % 2 else reversed(racers))) if isinstance(r, Exception)]

        # Whichever ran first, the visit is done on the survivor, which carries it as its last visit.
        _assert_done_with_follow_up(visit, survivor)
        assert _last_visit(merged) is None
    assert failures == []


def test_completing_a_visit_while_its_customer_is_transferred_neither_deadlocks_nor_loses_either(users):
    """The pair the deadlock was first suspected in. Both already took the customer first (the transfer then its
    deals; it passed before the fix too): a guard that this stays so."""
    failures = []
    for i in range(ROUNDS):
        customer = make_customer(users.am1, grade="key")
        visit = make_activity(users.am1, customer)
        racers = [_complete(users.bm1, visit, str(i)), _transfer(users.bm1, customer, to_user=users.am2)]
        failures += [r for r in race(*(racers if i % 2 else reversed(racers))) if isinstance(r, Exception)]

        assert Customer.objects.get(pk=customer.pk).owner_id == users.am2.pk
        _assert_done_with_follow_up(visit, customer)
    assert failures == []
