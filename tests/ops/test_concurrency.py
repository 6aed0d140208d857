"""Concurrency at the scale of the issue, on PostgreSQL (SQLite serialises writers, so races cannot happen there).

- 20 concurrent PATCHes of one customer with the same version, over HTTP against `guanxi serve`: one 200, 19 × 409,
  one audit entry (the service-level race is in tests/customers/test_customers_concurrency.py);
- 1,000 concurrent creates from a bounded pool of threads over two branches: numbers unique and gap-free per branch.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Customer, CustomerSequence
from tests.conftest import PASSWORD, make_customer
from tests.ops.conftest import database_url
from tests.ops.processes import guanxi_env, start_server, token

pytestmark = [
    pytest.mark.crash,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_twenty_concurrent_http_updates_of_one_version_one_wins_the_rest_get_409(users, tmp_path):
    customer = make_customer(users.am1, name="并发更新客户")
    env = guanxi_env(database_url=database_url(), home=tmp_path / "home")
    server, base = start_server(env, tmp_path / "serve.log")
    try:
        bearer = token(base, "am1", PASSWORD)
        barrier = threading.Barrier(20)

        def patch(i: int) -> httpx.Response:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {bearer}"}, timeout=60) as client:
                barrier.wait(timeout=30)
                return client.patch(f"/api/v1/customers/{customer.pk}", json={"version": 1, "address": f"写者{i}"})

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(patch, range(20)))
    finally:
        server.stop()

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, statuses
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["current_version"] == 2 and loser["errors"][0]["field"] == "version"
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.version, stored.address) == (2, winner["address"])
    updates = AuditLog.objects.filter(object_type="customers.customer", object_id=str(customer.pk), action="update")
    assert updates.count() == 1


def test_a_thousand_concurrent_creates_number_each_branch_without_gaps(users):
    users_model = get_user_model()
    start = threading.Barrier(16)
    local = threading.local()

    def create(i: int):
        if not getattr(local, "ready", False):
            local.ready = True
            start.wait(timeout=60)  # every thread of the pool starts together
        owner = users_model.objects.get(username=("am1", "am2", "am3")[i % 3])  # am1, am2: B01; am3: B02
        try:
            return services.customer_create(actor=owner, data={"name": f"千并发{i:04d}", "kind": "organisation"})
        except Exception as exc:  # noqa: BLE001 - each outcome is inspected below
            return exc

    finish = threading.Barrier(16)

    def close(_):
        finish.wait(timeout=60)  # one close per pool thread: each holds the barrier until all 16 arrived
        connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:  # bounded: 16 connections, 1,000 creates
        results = list(pool.map(create, range(1000)))
        list(pool.map(close, range(16)))

    failures = [r for r in results if not isinstance(r, Customer)]
    assert not failures, failures[:3]
    b01 = sorted(Customer.objects.filter(number__startswith="CB01").values_list("number", flat=True))
    b02 = sorted(Customer.objects.filter(number__startswith="CB02").values_list("number", flat=True))
    expected_b02 = sum(1 for i in range(1000) if i % 3 == 2)
    assert b01 == [f"CB01{n:07d}" for n in range(1, 1000 - expected_b02 + 1)]
    assert b02 == [f"CB02{n:07d}" for n in range(1, expected_b02 + 1)]
    assert CustomerSequence.objects.get(branch_code="B01").last == len(b01)
    assert CustomerSequence.objects.get(branch_code="B02").last == len(b02)
    assert AuditLog.objects.filter(object_type="customers.customer", action="create").count() == 1000
