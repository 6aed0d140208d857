"""Is the process that runs a job still alive? A lock it holds for as long as it runs, released by its death.

A worker killed with `kill -9` (or a machine that stops) cannot mark its job failed. Instead of waiting for a
heartbeat to go stale, the running process holds a lock that the operating system or the database server releases
the moment the process or its connection dies:

- PostgreSQL: a session-level advisory lock (works across machines: workers anywhere share the server);
- SQLite: an flock() on a file beside the database (SQLite means one machine, where flock is authoritative).

`held()` tells from any other process whether someone still holds it, so a reaper can fail jobs whose runner died
at once and safely (a live runner keeps its lock, whatever its heartbeat).
"""

import fcntl
import os
import time
import zlib
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


class Busy(Exception):
    """Another live process holds the lock."""


def _classid(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def _path(name: str, key: int):
    directory = settings.GUANXI_HOME / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.{key}.lock"


@contextmanager
def holding(name: str, key: int, *, wait: float = 2.0):
    """Hold the lock (name, key) for the block; Busy if another process keeps it for longer than `wait` seconds."""
    deadline = time.monotonic() + wait
    if connection.vendor == "postgresql":
        classid = _classid(name)
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [classid, key & 0x7FFFFFFF])
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    raise Busy(f"{name} {key}")
                time.sleep(0.1)
        try:
            yield
        finally:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [classid, key & 0x7FFFFFFF])
            except Exception:  # noqa: BLE001 - a dead connection has released the lock already
                connection.close()
        return
    fd = os.open(_path(name, key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Busy(f"{name} {key}") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the flock


def held(name: str, key: int) -> bool:
    """True while some live process holds (name, key)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = %s AND objid = %s AND objsubid = 2 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()))",
                [_classid(name), key & 0x7FFFFFFF],
            )
            return cursor.fetchone()[0]
    path = _path(name, key)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
