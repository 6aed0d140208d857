"""core.db_errors: an outage (503), a busy database (503, said so) and a write collision (409) are told apart by the
driver's error codes, and any other database error stays a 500 (a bug, not an outage). Every error here is raised by
a real database (PostgreSQL's RAISE with the SQLSTATE, a real timeout, a real lock, a terminated backend, SQLite's
real lock): nothing is mocked.
"""

import json
import sqlite3
import threading

import psycopg
import pytest
from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import RequestFactory
from django.utils import translation

from guanxi.core.db_errors import (
    BUSY_RETRY_AFTER_SECONDS,
    RETRY_AFTER_SECONDS,
    DatabaseUnavailableMiddleware,
    Failure,
    classify,
    server_error,
)
from tests.conftest import make_customer


def _raised_by_postgresql(sqlstate: str) -> DatabaseError:
    """The error Django raises when PostgreSQL reports `sqlstate` (Django's wrapper, the driver's error as cause)."""
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{sqlstate}'; END $$")
    return info.value


@pytest.mark.postgresql
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sqlstate, expected",
    [
        ("40001", Failure.CONFLICT),  # serialization_failure
        ("40P01", Failure.CONFLICT),  # deadlock_detected
        ("55P03", Failure.BUSY),  # lock_not_available (lock_timeout)
        ("57014", Failure.BUSY),  # query_canceled (statement_timeout)
        ("57P01", Failure.UNAVAILABLE),  # admin_shutdown (the server is restarting)
        ("57P03", Failure.UNAVAILABLE),  # cannot_connect_now (starting up)
        ("08006", Failure.UNAVAILABLE),  # connection_failure
        ("53300", Failure.UNAVAILABLE),  # too_many_connections
        ("54000", None),  # program_limit_exceeded: an OperationalError, but no outage (was a 503)
        ("22012", None),  # division_by_zero
    ],
)
def test_postgresql_errors_are_classified_by_sqlstate(sqlstate, expected):
    error = _raised_by_postgresql(sqlstate)
    assert error.__cause__.sqlstate == sqlstate
    assert classify(error) is expected


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_statement_timeout_is_busy_not_an_outage():
    with pytest.raises(OperationalError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '20ms'")
        cursor.execute("SELECT pg_sleep(5)")
    assert classify(info.value) is Failure.BUSY


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_connection_the_server_ends_is_an_outage():
    s = connection.settings_dict
    other = psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], password=s["PASSWORD"], dbname=s["NAME"]
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [other.info.backend_pid])
        with pytest.raises(psycopg.Error) as info:
            other.execute("SELECT 1")
    finally:
        other.close()
    assert classify(info.value) is Failure.UNAVAILABLE


def test_a_server_that_cannot_be_reached_is_an_outage():
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect("postgresql://postgres@127.0.0.1:1/guanxi", connect_timeout=2)
    assert info.value.sqlstate is None
    assert classify(info.value) is Failure.UNAVAILABLE


def test_sqlite_database_is_locked_is_busy_not_an_outage(tmp_path):
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import's transaction holds it
        with pytest.raises(sqlite3.OperationalError) as info:
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        holder.close()
        waiter.close()
    assert classify(info.value) is Failure.BUSY


def test_sqlite_errors_that_are_bugs_or_outages(tmp_path):
    with pytest.raises(sqlite3.OperationalError) as missing_file:
        sqlite3.connect(tmp_path / "no such directory" / "db.sqlite3")
    assert classify(missing_file.value) is Failure.UNAVAILABLE
    database = sqlite3.connect(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.OperationalError) as missing_table:
        database.execute("SELECT * FROM no_such_table")
    database.close()
    assert classify(missing_table.value) is None


# --------------------------------------------------------------------------------------------------------------------
# The answers


def _locked_error(tmp_path) -> sqlite3.OperationalError:
    holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    waiter = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        waiter.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        holder.close()
        waiter.close()
    raise AssertionError("no lock error")


def _answer(path: str, exc: BaseException, language: str = "en", **headers):
    request = RequestFactory().get(path, **headers)
    with translation.override(language):  # as LocaleMiddleware would have chosen
        return DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, exc)


def test_a_busy_database_answers_503_saying_busy_not_down(tmp_path):
    response = _answer("/api/v1/customers", _locked_error(tmp_path), language="zh-hans")
    assert response.status_code == 503
    assert response["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
    body = json.loads(response.content)
    assert body["errors"] == [] and "繁忙" in body["detail"]

    page = _answer("/customers/", _locked_error(tmp_path), HTTP_ACCEPT="text/html")
    assert page.status_code == 503
    assert "busy" in page.content.decode() and "cannot be reached" not in page.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in page.content.decode()


def test_an_outage_answers_503_with_retry_after(tmp_path):
    with pytest.raises(sqlite3.OperationalError) as info:
        sqlite3.connect(tmp_path / "gone" / "db.sqlite3")
    response = _answer("/api/v1/customers", info.value)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "cannot be reached" in json.loads(response.content)["detail"]


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_write_collision_answers_409_try_again():
    response = _answer("/api/v1/customers/1", _raised_by_postgresql("40P01"))
    assert response.status_code == 409
    assert "try again" in json.loads(response.content)["detail"]
    assert not response.has_header("Retry-After")


def test_other_database_errors_stay_500(tmp_path):
    database = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        database.execute("SELECT * FROM no_such_table")
    except sqlite3.OperationalError as exc:
        assert _answer("/api/v1/customers", exc) is None  # not handled: Django's 500, logged with its traceback
        assert server_error(RequestFactory().get("/customers/")).status_code == 500
    finally:
        database.close()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_update_that_waits_on_a_locked_row_past_the_lock_timeout_answers_503_busy(users, client):
    """Through the real API: another transaction holds the customer's row (a long import, a stuck session)."""
    customer = make_customer(users.am1, name="锁等待客户")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        from guanxi.customers.models import Customer

        try:
            with transaction.atomic():
                Customer.objects.select_for_update().get(pk=customer.pk)
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        client.force_login(users.am1)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")  # this thread's connection serves the test client
        response = client.patch(
            f"/api/v1/customers/{customer.pk}",
            {"version": customer.version, "address": "解放路1号"},
            content_type="application/json",
        )
    finally:
        release.set()
        holder.join(timeout=20)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
    assert "繁忙" in response.json()["detail"]  # busy, in the default language; not "cannot be reached"
    customer.refresh_from_db()
    assert customer.address != "解放路1号"
