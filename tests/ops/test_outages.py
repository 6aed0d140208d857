"""Outages while Guanxi serves, with real processes: `guanxi serve` on PostgreSQL behind a TCP proxy that the test
cuts (every open connection dropped, new ones refused: what a PostgreSQL restart looks like from Guanxi) and
restores. The shared PostgreSQL server itself is never stopped.
"""

import threading
import time
from collections import Counter

import httpx
import pytest
from django.test import Client

from tests.conftest import PASSWORD, make_customer
from tests.ops.conftest import database_url
from tests.ops.processes import guanxi_env, start_server, token, wait_until

pytestmark = [
    pytest.mark.crash,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class Load:
    """Threads calling the server as fast as they can; every answer (or transport error) is kept with its phase."""

    def __init__(self, base: str, bearer: str, session: str, threads: int = 4):
        self.base, self.results, self.phase = base, [], "before"
        self._stop = threading.Event()
        self._headers = {"Authorization": f"Bearer {bearer}", "Accept-Language": "zh-hans"}
        self._cookies = {"sessionid": session}
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.base, timeout=20) as client:
            while not self._stop.is_set():
                page = i % 2 == 1  # half the threads load a page with the session, half call the API
                started = self.phase
                try:
                    if page:
                        response = client.get(
                            "/customers/", cookies=self._cookies, headers={"Accept-Language": "zh-hans"}
                        )
                    else:
                        response = client.get("/api/v1/customers", headers=self._headers)
                    outcome = response.status_code, response.text
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__, str(exc)
                # A request that spans a change of phase (cut, restore) counts in neither phase.
                phase = started if self.phase == started else "between"
                self.results.append((phase, "page" if page else "api", *outcome))
                time.sleep(0.02)

    def statuses(self, phase: str) -> Counter:
        return Counter(status for p, _, status, _ in self.results if p == phase)


def test_a_database_outage_answers_503_and_guanxi_recovers_without_restart(users, pg_proxy, tmp_path):
    make_customer(users.am1, name="断库测试客户")
    web = Client()
    web.force_login(users.am1)
    session = web.cookies["sessionid"].value
    env = guanxi_env(database_url=database_url(pg_proxy.port), home=tmp_path / "home", GUANXI_CONN_MAX_AGE="60")
    server, base = start_server(env, tmp_path / "serve.log")
    try:
        bearer = token(base, "am1", PASSWORD)
        with Load(base, bearer, session) as load:
            wait_until(lambda: load.statuses("before")[200] >= 20, timeout=20, what="answers before the outage")

            load.phase = "outage"
            pg_proxy.cut()
            wait_until(lambda: load.statuses("outage")[503] >= 20, timeout=20, what="503 answers", process=server)

            pg_proxy.restore()
            load.phase = "after"
            # Requests already on their way when the proxy came back may still fail; within seconds all succeed.
            wait_until(lambda: load.statuses("after")[200] >= 20, timeout=20, what="recovery", process=server)
            load.phase = "recovered"
            time.sleep(1.5)

        assert server.popen.poll() is None  # the same server process throughout: no restart
        assert set(load.statuses("before")) == {200}, load.statuses("before")
        assert set(load.statuses("recovered")) == {200}, load.statuses("recovered")
        outage = [r for r in load.results if r[0] in ("outage", "after", "between")]
        assert {status for _, _, status, _ in outage} <= {200, 503}, Counter(s for _, _, s, _ in outage)
        api_503 = next(body for _, kind, status, body in outage if status == 503 and kind == "api")
        page_503 = next(body for _, kind, status, body in outage if status == 503 and kind == "page")
        assert "数据库" in httpx.Response(503, text=api_503).json()["detail"]  # JSON, in the request's language
        assert "数据库" in page_503 and "Traceback" not in page_503 and "<html" in page_503
        assert "Traceback" not in api_503
    finally:
        server.stop()
