"""Large files run as Celery jobs: the 100,000-row path, a real worker on the embedded broker, and jobs that die."""

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import OperationalError
from django.utils import timezone

from guanxi.celery import app as celery_app
from guanxi.core.models import AuditLog
from guanxi.customers import bulk
from guanxi.customers.models import Contact, Customer
from guanxi.imports import services, tasks
from guanxi.imports.models import ImportJob
from tests.conftest import credit_code
from tests.imports.helpers import Uploader, big_customer_csv, csv_bytes

ROWS = 100_000


@pytest.mark.slow
def test_it_imports_100000_rows_through_the_background_path(
    users, uploader, eager_celery, django_capture_on_commit_callbacks
):
    content = big_customer_csv(ROWS)
    up = uploader(users.am1)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = up.upload(content, name="big.csv", commit=True)
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert response.json()["state"] == "validating"  # answered at once: the work is queued for a worker
    assert len(callbacks) == 1
    job = up.job(response.json()["id"], errors_limit=5)
    assert job["state"] == "done", job
    assert job["rows"] == {"total": ROWS, "valid": ROWS, "invalid": 0, "created": ROWS, "updated": 0, "unchanged": 0}
    assert job["progress"] == 100
    assert Customer.objects.count() == ROWS and Contact.objects.filter(primary=True).count() == ROWS
    assert AuditLog.objects.filter(action="import").count() == 2 * ROWS
    numbers = Customer.objects.order_by("number").values_list("number", flat=True)
    assert numbers.first() == "CB010000001" and numbers.last() == f"CB01{ROWS:07d}"
    assert Customer.tags.through.objects.count() == ROWS // 10
    print(f"\n{ROWS} rows validated and committed in {elapsed:.1f} s ({ROWS / elapsed:,.0f} rows/s)")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_job_from_the_embedded_broker(users, settings, tmp_path):
    """Not eager: the task goes through kombu's SQLAlchemy transport (a SQLite file) to a worker thread."""
    settings.GUANXI_IMPORT_INLINE_ROWS = 0  # even a small file goes to the worker
    finished = threading.Event()

    def on_done(sender=None, **kwargs):
        if sender is not None and sender.name == "imports.run":
            finished.set()

    task_postrun.connect(on_done, weak=False)
    saved = {
        key: celery_app.conf[key] for key in ("broker_url", "worker_enable_remote_control", "broker_transport_options")
    }
    celery_app.conf.update(
        broker_url=f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        worker_enable_remote_control=False,
        broker_transport_options={"connect_args": {"timeout": 30}},
    )
    _reset_connections()
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
            response = Uploader(users.am1).upload(csv_bytes(_rows(3)), commit=True)
            assert response.status_code == 201 and response.json()["state"] == "validating"
            assert finished.wait(timeout=60), "the worker did not run the task"
        job = _read_job(response.json()["id"])
    finally:
        task_postrun.disconnect(on_done)
        celery_app.conf.update(saved)
        _reset_connections()

    assert job.state == "done" and job.created_count == 3 and job.claimed_at is not None
    assert Customer.objects.filter(name__startswith="后台导入").count() == 3


def test_a_job_that_dies_mid_commit_writes_nothing_and_can_be_retried(users, uploader, monkeypatch):
    real_write_contacts = bulk.write_contacts

    def die_after_customers(**kwargs):
        assert Customer.objects.filter(name__startswith="后台导入").count() == 3  # written, inside the transaction
        raise RuntimeError("worker lost")

    monkeypatch.setattr(bulk, "write_contacts", die_after_customers)
    up = uploader(users.am1)
    job = up.upload(csv_bytes(_rows(3)), commit=True).json()

    assert job["state"] == "failed" and "worker lost" in job["error"]
    assert Customer.objects.filter(name__startswith="后台导入").count() == 0
    assert not AuditLog.objects.filter(action="import").exists()

    monkeypatch.setattr(bulk, "write_contacts", real_write_contacts)
    retried = up.client.post(f"/api/v1/imports/{job['id']}/retry").json()

    assert retried["state"] == "done" and retried["rows"]["created"] == 3
    assert Contact.objects.filter(customer__name__startswith="后台导入").count() == 3


def test_the_sweep_fails_jobs_whose_worker_stopped_and_they_can_be_retried(users, uploader, settings):
    up = uploader(users.am1)
    job = ImportJob.objects.get(pk=up.upload(csv_bytes(_rows(2))).json()["id"])
    long_ago = timezone.now() - timedelta(seconds=settings.GUANXI_IMPORT_STALL_SECONDS + 60)
    # As a worker killed while committing leaves it: claimed, no heartbeat since, its transaction rolled back.
    ImportJob.objects.filter(pk=job.pk).update(
        state="committing", commit_requested=True, claimed_at=long_ago, heartbeat_at=long_ago
    )

    tasks.sweep_imports()

    job.refresh_from_db()
    assert job.state == "failed" and job.error_message
    result = up.client.post(f"/api/v1/imports/{job.pk}/retry").json()
    assert result["state"] == "done" and Customer.objects.filter(name__startswith="后台导入").count() == 2


def test_a_task_delivered_twice_runs_once(users, uploader, eager_celery):
    job = ImportJob.objects.get(pk=uploader(users.am1).upload(csv_bytes(_rows(2)), commit=True).json()["id"])
    assert job.state == "done"

    tasks.run_import.delay(job.pk, job.attempt)  # the same attempt again: already claimed, nothing happens
    tasks.run_import.delay(job.pk, job.attempt - 1)  # an outdated attempt: nothing happens either

    assert Customer.objects.filter(name__startswith="后台导入").count() == 2
    assert services.import_job_run(job_id=job.pk, attempt=job.attempt) is None


def test_a_running_job_cannot_be_committed_or_remapped(users, uploader):
    up = uploader(users.am1)
    job = up.upload(csv_bytes(_rows(1))).json()
    ImportJob.objects.filter(pk=job["id"]).update(state="validating")

    assert up.commit(job["id"]).status_code == 409
    response = up.client.post(f"/api/v1/imports/{job['id']}/mapping", {"mapping": {}}, content_type="application/json")
    assert response.status_code == 409
    assert up.client.post(f"/api/v1/imports/{job['id']}/retry").status_code == 409


def _rows(count: int) -> list[list]:
    return [["客户名称", "统一社会信用代码", "联系人", "手机"]] + [
        [f"后台导入{n}有限公司", credit_code(7000 + n), f"联系人{n}", f"1390000{n:04d}"] for n in range(count)
    ]


def _reset_connections() -> None:
    """Drop Celery's cached connection and producer pools, so the next message goes to the broker now configured."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _read_job(job_id: int) -> ImportJob:
    for _attempt in range(50):  # the in-memory test database is shared with the worker thread: retry a lock
        try:
            return ImportJob.objects.get(pk=job_id)
        except OperationalError:
            time.sleep(0.1)
    return ImportJob.objects.get(pk=job_id)
