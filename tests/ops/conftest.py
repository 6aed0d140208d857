"""Fixtures of the operations tests: a PostgreSQL database the test's subprocesses share, reachable through a proxy."""

import pytest
from django.db import connection

from tests.ops.tcpproxy import TcpProxy


@pytest.fixture
def pg_proxy():
    """A cuttable TCP proxy in front of the suite's PostgreSQL server."""
    settings = connection.settings_dict
    proxy = TcpProxy(settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    yield proxy
    proxy.close()


def database_url(port: int | None = None) -> str:
    """DATABASE_URL of the suite's (test) database, optionally through a proxy on `port`."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@127.0.0.1:{port or s['PORT'] or 5432}/{s['NAME']}"
