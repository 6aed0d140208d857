"""Redis (broker and cache) down while Guanxi serves.

Decision: the web app keeps serving without Redis (the cache is an optimisation: core.cache turns an outage into
misses), and background work is not lost: a job started while the broker is down waits in the database and is sent
when a worker starts or the periodic sweep runs after the broker is back (imports.services.import_jobs_reap). The
real-process test puts a TCP proxy between Guanxi and the shared Redis (never stopped) and cuts it.
"""

import time
import uuid

import httpx
import pytest
from django.test import Client, override_settings
from kombu.exceptions import OperationalError as BrokerDown

from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.models import ImportJob
from guanxi.imports.tasks import run_import
from tests.conftest import PASSWORD, fresh
from tests.imports.helpers import Uploader, big_customer_csv
from tests.ops.conftest import database_url
from tests.ops.processes import Process, guanxi_env, start_server, token, wait_until
from tests.ops.tcpproxy import TcpProxy

ROWS = 300


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_import, "apply_async", refuse)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
@override_settings(GUANXI_IMPORT_INLINE_ROWS=100)
def test_an_import_started_while_the_broker_is_down_waits_and_runs_when_it_is_back(
    users, media, broker_down, monkeypatch, eager_celery
):
    response = Uploader(users.am1).upload(big_customer_csv(ROWS), commit=True)

    assert response.status_code == 201, response.content  # the request does not fail
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.state, job.claimed_at) == ("validating", None)  # waiting in the database

    assert services.import_jobs_reap(requeue_after=3600) == (0, 0)  # not waited long enough: nothing sent again
    assert services.import_jobs_reap(requeue_after=0) == (0, 0)  # the broker is still down: still waiting
    job.refresh_from_db()
    assert job.state == "validating"

    monkeypatch.undo()  # the broker is back; eager: the task runs here
    eager_celery.conf.task_always_eager = True
    assert services.import_jobs_reap(requeue_after=0) == (0, 1)
    job.refresh_from_db()
    assert job.state == "done", job.error_message
    assert Customer.objects.filter(name__startswith="批量导入").count() == ROWS


@pytest.mark.django_db
def test_the_sweep_fails_a_job_whose_runner_died_and_leaves_a_live_one(users, media):
    from guanxi.core import liveness

    response = Uploader(users.am1).upload(big_customer_csv(5))
    job = ImportJob.objects.get(pk=response.json()["id"])
    ImportJob.objects.filter(pk=job.pk).update(state="committing", claimed_at=job.created_at, heartbeat_at=None)

    with liveness.holding(services.RUNNER_LOCK, job.pk):  # a live runner: left alone
        assert services.import_jobs_reap() == (0, 0)
        assert ImportJob.objects.get(pk=job.pk).state == "committing"

    assert services.import_jobs_reap() == (1, 0)  # runner gone: failed at once, no 15-minute wait
    job.refresh_from_db()
    assert job.state == "failed" and job.error_message
    response = Client()
    response.force_login(fresh(users.am1))
    assert response.post(f"/api/v1/imports/{job.pk}/retry").status_code == 202


@pytest.fixture
def eager_celery():
    from guanxi.celery import app

    yield app
    app.conf.task_always_eager = False


@pytest.mark.crash
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_down_the_web_app_serves_and_queued_work_runs_when_it_is_back(users, tmp_path):
    proxy = TcpProxy("127.0.0.1", 6379)
    queue = f"guanxi-test-{uuid.uuid4().hex[:8]}"
    env = guanxi_env(
        database_url=database_url(),
        home=tmp_path / "home",
        REDIS_URL=f"redis://127.0.0.1:{proxy.port}/14",
        GUANXI_QUEUE=queue,
        GUANXI_IMPORT_INLINE_ROWS="100",
    )
    web = Client()
    web.force_login(users.am1)
    cookies = {"sessionid": web.cookies["sessionid"].value}
    server, base = start_server(env, tmp_path / "serve.log")
    worker = None
    try:
        bearer = token(base, "am1", PASSWORD)
        auth = {"Authorization": f"Bearer {bearer}"}
        assert httpx.get(f"{base}/api/v1/customers", headers=auth).status_code == 200

        proxy.cut()
        started = time.monotonic()
        assert httpx.get(f"{base}/api/v1/customers", headers=auth, timeout=20).status_code == 200
        assert httpx.get(f"{base}/customers/", cookies=cookies, timeout=20).status_code == 200
        assert token(base, "am2", PASSWORD)  # login (its throttle counts in Redis) works too
        response = httpx.post(
            f"{base}/api/v1/imports",
            headers=auth,
            data={"kind": "customers", "commit": "true"},
            files={"file": ("customers.csv", big_customer_csv(ROWS), "text/csv")},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]
        assert time.monotonic() - started < 20  # no request hangs on the dead broker
        assert ImportJob.objects.get(pk=job_id).state == "validating"

        proxy.restore()
        worker = Process(["worker", "--loglevel", "WARNING"], env, tmp_path / "worker.log")
        wait_until(
            lambda: ImportJob.objects.get(pk=job_id).state in ("done", "failed", "invalid"),
            timeout=120,
            what="the queued import to run",
            process=worker,
        )
        job = ImportJob.objects.get(pk=job_id)
        assert job.state == "done", job.error_message
        assert Customer.objects.filter(name__startswith="批量导入").count() == ROWS
    finally:
        proxy.close()
        if worker is not None:
            worker.stop()
        server.stop()
