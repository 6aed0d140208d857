"""guanxi.core.postgresql: timestamps parsed by psycopg's C loader read back as Django's own loader reads them, and
the health check notices a connection the server dropped without sending `SELECT 1` on a healthy one."""

import select
import time
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.backends.postgresql import base as django_base
from django.db.utils import load_backend

from guanxi.core.postgresql import base

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend")


def _other_connection():
    """A second connection to the test database, outside django.db.connections."""
    backend = load_backend(connection.settings_dict["ENGINE"])
    return backend.DatabaseWrapper(dict(connection.settings_dict), alias="h4_health")


@pytest.mark.django_db
def test_it_reads_timestamps_as_aware_utc_datetimes_through_the_c_loader():
    written = datetime(2026, 11, 27, 5, 6, 7, 891011, tzinfo=UTC)
    user = get_user_model().objects.create(username="alice", date_joined=written)
    connection.ensure_connection()
    if base._HAS_C_LOADER:
        assert connection.connection.adapters.get_loader(1184, 0) is base.UtcTimestamptzLoader
    read = get_user_model().objects.values_list("date_joined", flat=True).get(pk=user.pk)
    assert read == written and read.tzinfo is UTC
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, NULL::timestamptz, 'infinity'::timestamptz < now()", [written])
        assert cursor.fetchone() == (written, None, False)


@pytest.mark.django_db
def test_it_finds_a_healthy_idle_connection_usable_without_a_statement_and_a_dropped_one_unusable():
    other = _other_connection()
    try:
        other.ensure_connection()
        with mock.patch.object(django_base.DatabaseWrapper, "is_usable", side_effect=AssertionError("SELECT 1")):
            assert other.is_usable()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [other.connection.info.backend_pid])
        socket = other.connection.pgconn.socket
        deadline = time.monotonic() + 5
        while not select.select([socket], [], [], 0.05)[0] and time.monotonic() < deadline:
            pass
        assert not other.is_usable()
        other.health_check_done = False  # as at the start of a request that reuses the connection
        other.close_if_health_check_failed()
        assert other.connection is None
    finally:
        other.close()
