"""`kill -9` in the middle of a 100,000-row import, with real processes on PostgreSQL: `guanxi serve` takes the upload,
`guanxi worker` (or the worker `guanxi serve --worker` starts) runs it, and the test kills them with SIGKILL while the
rows are being written. Afterwards the database holds none of the rows (the commit is one transaction), the job shows
as failed as soon as a worker starts again (its runner lock is free: imports.services.import_jobs_reap), and a retry
imports every row exactly once.
"""

import os
import time

import httpx
import pytest

from guanxi.customers.models import Customer
from guanxi.imports.models import ImportJob
from tests.conftest import PASSWORD
from tests.imports.helpers import big_customer_csv
from tests.ops.conftest import database_url
from tests.ops.processes import Process, guanxi_env, start_server, token, wait_until

pytestmark = [
    pytest.mark.crash,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# 100,000 rows as the issue asks; GUANXI_CRASH_ROWS makes a quicker run while developing.
ROWS = int(os.environ.get("GUANXI_CRASH_ROWS", "100000"))
# A 100,000-row import takes 1-2 minutes on a loaded 2-core machine (docs/imports.md): bounds leave room for that.
IMPORT_SECONDS = 600


@pytest.fixture(scope="module")
def big_csv() -> bytes:
    return big_customer_csv(ROWS)


def _state(job_id: int) -> str:
    return ImportJob.objects.values_list("state", flat=True).get(pk=job_id)


def _upload(base: str, bearer: str, content: bytes) -> int:
    response = httpx.post(
        f"{base}/api/v1/imports",
        headers={"Authorization": f"Bearer {bearer}"},
        data={"kind": "customers", "commit": "true"},
        files={"file": ("customers.csv", content, "text/csv")},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "validating"  # too big to run inside the request: a worker runs it
    return response.json()["id"]


def _writing(job_id: int) -> bool:
    """The job is committing and its transaction has written rows (seen in pg_stat_activity as an open write)."""
    if _state(job_id) != "committing":
        return False
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def _imported() -> int:
    return Customer.objects.filter(name__startswith="批量导入").count()


def _assert_killed_mid_commit_leaves_nothing(job_id: int) -> None:
    assert _imported() == 0
    assert _state(job_id) == "committing"  # nobody could mark it: its runner is dead


def _assert_retry_imports_every_row_once(base: str, bearer: str, job_id: int, runner: Process) -> None:
    response = httpx.post(f"{base}/api/v1/imports/{job_id}/retry", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 202, response.text
    wait_until(
        lambda: _state(job_id) in ("done", "failed", "invalid"),
        timeout=IMPORT_SECONDS,
        what="the retry",
        process=runner,
    )
    job = ImportJob.objects.get(pk=job_id)
    assert job.state == "done", job.error_message
    assert job.created_count == ROWS
    customers = Customer.objects.filter(name__startswith="批量导入")
    assert customers.count() == ROWS
    assert customers.values("credit_code").distinct().count() == ROWS
    assert customers.values("number").distinct().count() == ROWS
    print(f"retry: {job.finished_at - job.claimed_at} from claim to done")


def _customer_names_prefix_check(content: bytes) -> None:
    assert "批量导入".encode() in content[:2000], "big_customer_csv names its customers 批量导入…"


def test_kill_9_of_the_worker_mid_commit(users, big_csv, tmp_path):
    _customer_names_prefix_check(big_csv)
    # The sweep every 5 s: after kill -9 the server may still finish the dead client's current statement (holding
    # its locks) for a moment; the reaper at worker start or the next sweep fails the job once it is gone.
    env = guanxi_env(database_url=database_url(), home=tmp_path / "home", GUANXI_IMPORT_SWEEP_SECONDS="5")
    server, base = start_server(env, tmp_path / "serve.log")
    worker = Process(["worker", "--beat", "--loglevel", "WARNING"], env, tmp_path / "worker.log")
    try:
        bearer = token(base, "am1", PASSWORD)
        started = time.monotonic()
        job_id = _upload(base, bearer, big_csv)
        wait_until(
            lambda: _writing(job_id), timeout=IMPORT_SECONDS, what="the commit to write", process=worker, every=0.5
        )
        time.sleep(1.0)
        worker.kill9()
        killed_after = time.monotonic() - started

        _assert_killed_mid_commit_leaves_nothing(job_id)

        worker = Process(["worker", "--beat", "--loglevel", "WARNING"], env, tmp_path / "worker2.log")
        wait_until(lambda: _state(job_id) == "failed", timeout=60, what="the restarted worker to fail the job")
        job = ImportJob.objects.get(pk=job_id)
        assert "Retry" in job.error_message or "重试" in job.error_message
        assert _imported() == 0
        print(f"killed after {killed_after:.1f} s; reaped {time.monotonic() - started - killed_after:.1f} s later")

        _assert_retry_imports_every_row_once(base, bearer, job_id, worker)
    finally:
        worker.stop()
        server.stop()


def test_kill_9_of_the_server_with_its_worker_mid_commit(users, big_csv, tmp_path):
    env = guanxi_env(database_url=database_url(), home=tmp_path / "home", GUANXI_IMPORT_SWEEP_SECONDS="5")
    server, base = start_server(env, tmp_path / "serve.log", worker=True)
    try:
        bearer = token(base, "am1", PASSWORD)
        job_id = _upload(base, bearer, big_csv)
        wait_until(
            lambda: _writing(job_id), timeout=IMPORT_SECONDS, what="the commit to write", process=server, every=0.5
        )
        time.sleep(1.0)
        server.kill9()  # gunicorn, its web workers and the Celery worker it started: the whole process group

        _assert_killed_mid_commit_leaves_nothing(job_id)

        server, base = start_server(env, tmp_path / "serve2.log", worker=True)
        wait_until(lambda: _state(job_id) == "failed", timeout=60, what="the restarted server's worker to fail it")
        assert _imported() == 0
        response = httpx.get(f"{base}/api/v1/imports/{job_id}", headers={"Authorization": f"Bearer {bearer}"})
        assert response.json()["state"] == "failed"

        _assert_retry_imports_every_row_once(base, bearer, job_id, server)
    finally:
        server.stop()
