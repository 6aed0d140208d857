"""Real concurrency (PostgreSQL only: SQLite serialises writers, so races cannot happen there).

Each thread opens its own connection, works on committed data (transaction=True) and closes its connection.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Customer, CustomerSequence
from tests.conftest import build_org, build_users, credit_code

# serialized_rollback: restore the seeded rows (groups, categories, regions) for the next transactional test, as the
# other transactional tests of the suite expect, instead of re-running post_migrate after the flush.
pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _race(count: int, work):
    """Run work(i) for i in range(count) on `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=30)
            return work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome of each racer is what the test inspects
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def people():
    build_org()
    return build_users()


def test_it_lets_one_of_twenty_concurrent_updates_of_one_version_win(people):
    customer = services.customer_create(actor=people["am1"], data={"name": "争用客户", "kind": "organisation"})

    results = _race(
        20,
        lambda i: services.customer_update(
            actor=_user("am1"), customer_id=customer.pk, version=1, data={"name": f"写者{i:02d}", "address": f"{i}"}
        ),
    )

    winners = [r for r in results if isinstance(r, Customer)]
    losers = [r for r in results if isinstance(r, StaleVersion)]
    assert len(winners) == 1, results
    assert len(losers) == 19, results
    # Whether a loser read before or after the winner's commit, it is told the version that won.
    assert {loser.current_version for loser in losers} == {2}
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.version == 2
    assert stored.name == winners[0].name and stored.address == winners[0].address
    updates = AuditLog.objects.filter(object_type="customers.customer", object_id=str(customer.pk), action="update")
    assert updates.count() == 1
    assert updates.get().changes["name"] == ["争用客户", stored.name]


def test_it_numbers_fifty_concurrent_creates_without_gaps_or_duplicates(people):
    def create(i):
        owner = "am1" if i % 2 else "am2"  # two teams of branch B01 share one sequence
        return services.customer_create(actor=_user(owner), data={"name": f"并发{i:02d}", "kind": "organisation"})

    results = _race(50, create)

    assert all(isinstance(r, Customer) for r in results), [r for r in results if not isinstance(r, Customer)]
    numbers = sorted(Customer.objects.values_list("number", flat=True))
    assert numbers == [f"CB01{n:07d}" for n in range(1, 51)]
    assert CustomerSequence.objects.get(branch_code="B01").last == 50
    assert AuditLog.objects.filter(object_type="customers.customer", action="create").count() == 50


def test_it_numbers_two_branches_concurrently_each_without_gaps(people):
    results = _race(
        30,
        lambda i: services.customer_create(
            actor=_user("am1" if i % 3 else "am3"), data={"name": f"分支{i:02d}", "kind": "organisation"}
        ),
    )

    assert all(isinstance(r, Customer) for r in results)
    b01 = sorted(Customer.objects.filter(number__startswith="CB01").values_list("number", flat=True))
    b02 = sorted(Customer.objects.filter(number__startswith="CB02").values_list("number", flat=True))
    assert b01 == [f"CB01{n:07d}" for n in range(1, 21)]
    assert b02 == [f"CB02{n:07d}" for n in range(1, 11)]


def test_it_gives_one_credit_code_to_one_of_several_concurrent_creates(people):
    code = credit_code()

    results = _race(
        8,
        lambda i: services.customer_create(
            actor=_user("am1"), data={"name": f"同码{i}", "kind": "organisation", "credit_code": code}
        ),
    )

    created = [r for r in results if isinstance(r, Customer)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1 and len(refused) == 7, results
    assert all("credit_code" in r.message_dict for r in refused)
    # The losers gave their numbers back: the sequence has no gap.
    assert Customer.objects.get().number == "CB010000001"
    assert CustomerSequence.objects.get(branch_code="B01").last == 1


def test_it_lets_one_of_concurrent_contact_updates_win(people):
    customer = services.customer_create(actor=people["am1"], data={"name": "联系人争用", "kind": "organisation"})
    contact = services.contact_create(actor=people["am1"], customer_id=customer.pk, data={"name": "钱十"})

    results = _race(
        10,
        lambda i: services.contact_update(
            actor=_user("am1"), contact_id=contact.pk, version=1, data={"title": f"职务{i}"}
        ),
    )

    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert sum(isinstance(r, StaleVersion) for r in results) == 9
    assert AuditLog.objects.filter(object_type="customers.contact", action="update").count() == 1


def test_it_names_the_credit_code_when_two_updates_race_for_it(people):
    code = credit_code()
    first, second = (
        services.customer_create(actor=people["am1"], data={"name": f"改码{i}", "kind": "organisation"})
        for i in range(2)
    )

    results = _race(
        2,
        lambda i: services.customer_update(
            actor=_user("am1"),
            customer_id=(first, second)[i].pk,
            version=1,
            data={"name": f"改码后{i}", "address": "同一地址", "credit_code": code},
        ),
    )

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert sum(isinstance(r, Customer) for r in results) == 1 and len(refused) == 1, results
    assert list(refused[0].message_dict) == ["credit_code"]
    assert Customer.objects.filter(credit_code=code).count() == 1


def test_it_keeps_one_primary_contact_when_two_are_promoted_at_once(people):
    customer = services.customer_create(actor=people["am1"], data={"name": "主联系人争用", "kind": "organisation"})
    contacts = [
        services.contact_create(actor=people["am1"], customer_id=customer.pk, data={"name": f"联系人{i}"})
        for i in range(3)
    ]

    results = _race(
        2,
        lambda i: services.contact_update(
            actor=_user("am1"), contact_id=contacts[i + 1].pk, version=1, data={"primary": True}
        ),
    )

    assert all(not isinstance(r, Exception) or isinstance(r, ValidationError | StaleVersion) for r in results), results
    assert customer.contacts.filter(primary=True).count() == 1
