"""`guanxi backup` / `guanxi restore`: a populated database and its uploaded files survive the round trip unchanged.

The round trip runs on the vendor of the suite (SQLite in the normal run, PostgreSQL with DATABASE_URL): the archive
is restored into a second, empty database (a temporary SQLite file, or `<test database>_restore` on the same
PostgreSQL server) and every table is compared by row count and by a checksum of its rows.
"""

import hashlib
import io
import json
import tarfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.utils import load_backend
from django.utils import translation

from guanxi.core import backup
from guanxi.core.backup import BackupError, backup_create, backup_inspect, backup_restore
from guanxi.customers import services as customer_services
from guanxi.imports.models import ImportJob
from tests.conftest import fresh, make_contact, make_customer
from tests.imports.helpers import Uploader, big_customer_csv

# Transactional: pg_dump reads committed data from its own session. serialized_rollback puts back the rows the
# migrations seed for the tests that run after this module.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TARGET_ALIAS = "restore_target"


@pytest.fixture(autouse=True)
def _english():
    """Messages matched in English below (one test checks the Chinese wording)."""
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def populated(users, media):
    """Customers, contacts, an update and a transfer (audit log), an import job with its file, an attachment."""
    customers = [make_customer(users.am1, name=f"备份客户{i}", address=f"龙沙区{i}号") for i in range(5)]
    for customer in customers[:3]:
        make_contact(users.am1, customer, mobile="13800138000")
    customer_services.customer_update(
        actor=fresh(users.am1), customer_id=customers[0].pk, version=1, data={"name": "备份客户改名"}
    )
    make_customer(users.am3, name="另一分公司客户")
    # Without the region column: earlier live-server tests in a full run flush the seeded regions.
    rows = big_customer_csv(25, start=500).replace(b",230202,", b",,")
    response = Uploader(users.am1).upload(rows, commit=True)
    assert response.status_code == 201 and response.json()["state"] == "done", response.content
    (media / "attachments").mkdir(parents=True)
    (media / "attachments" / "合同.pdf").write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 40)
    translation.activate("en")  # the requests above left the request's language active
    return customers


@pytest.fixture
def target(tmp_path):
    """An empty second database of the suite's vendor, as a Django connection."""
    if connection.vendor == "sqlite":
        with _alias(NAME=str(tmp_path / "restored.sqlite3")) as conn:
            yield conn
        return
    name = f"{connection.settings_dict['NAME']}_restore"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    try:
        with _alias(NAME=name) as conn:
            yield conn
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(sql: str) -> None:
    import psycopg

    params = backup._psycopg_params(connection.get_connection_params())
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def _alias(**changes):
    """A connection to another database, outside django.db.connections (the test's database guard is not
    involved; the restore target is not a test database)."""
    backend = load_backend(connection.settings_dict["ENGINE"])
    other = backend.DatabaseWrapper({**connection.settings_dict, **changes}, alias=TARGET_ALIAS)
    try:
        yield other
    finally:
        other.close()


def fingerprint(conn) -> dict[str, tuple[int, str]]:
    """{table: (row count, SHA-256 of its rows sorted)} for every table of a database."""
    result = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return result


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the round trip -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["guanxi.tar", "guanxi.tar.gz"])
def test_it_round_trips_a_populated_database_and_its_files(populated, media, target, tmp_path, name):
    source = fingerprint(connection)
    archive = tmp_path / name

    made = backup_create(archive)

    assert made.manifest["vendor"] == connection.vendor
    assert made.manifest["format_version"] == backup.FORMAT_VERSION
    assert made.manifest["app_version"]
    assert {t: n for t, (n, _) in source.items() if t in made.manifest["tables"]} == made.manifest["tables"]
    assert made.manifest["tables"]["customers_customer"] == 31
    assert made.manifest["tables"]["core_auditlog"] > 31
    assert made.manifest["tables"]["imports_importjob"] == 1
    job_file = ImportJob.objects.get().file.name
    assert f"media/{job_file}" in made.manifest["files"]

    restored_media = tmp_path / "restored-media"
    done = backup_restore(archive, using=target, media_root=restored_media)

    assert done.manifest == made.manifest
    restored = fingerprint(target)
    assert restored == source  # every table: same row count, same rows
    assert files(restored_media) == files(media)
    assert (restored_media / job_file).is_file()


def test_the_commands_back_up_check_and_refuse_to_overwrite(populated, tmp_path):
    archive = tmp_path / "cli.tar.gz"
    out = io.StringIO()

    call_command("backup", str(archive), stdout=out)
    assert str(archive) in out.getvalue()

    out = io.StringIO()
    call_command("restore", str(archive), "--check", stdout=out)
    assert connection.vendor in out.getvalue()

    # The suite's own database holds users: a restore over it is refused without --force, and nothing changes.
    before = fingerprint(connection)
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(archive))
    assert fingerprint(connection) == before
    with pytest.raises(CommandError, match="no backup"):
        call_command("restore", str(tmp_path / "missing.tar"))


def test_it_refuses_a_target_with_data_unless_forced(populated, target, tmp_path):
    archive = tmp_path / "guanxi.tar"
    backup_create(archive)
    (tmp_path / "m0").mkdir()
    (tmp_path / "m0" / "left.txt").write_text("x")
    with pytest.raises(BackupError, match="media directory"):
        backup_restore(archive, using=target, media_root=tmp_path / "m0")
    assert fingerprint_of_empty(target) == {}

    backup_restore(archive, using=target, media_root=tmp_path / "m1")
    with target.cursor() as cursor:
        cursor.execute("DELETE FROM customers_contact")
        cursor.execute("UPDATE customers_customer SET name = 'changed'")
    with pytest.raises(BackupError, match="already holds data"):
        backup_restore(archive, using=target, media_root=tmp_path / "m2")

    backup_restore(archive, using=target, media_root=tmp_path / "m1", force=True)
    assert fingerprint(target) == fingerprint(connection)


def test_it_refuses_a_backup_of_another_vendor(populated, target, tmp_path):
    archive = tmp_path / "guanxi.tar"
    backup_create(archive)
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    forged = _rewrite(archive, tmp_path / "forged.tar", manifest=lambda m: {**m, "vendor": other})

    with pytest.raises(BackupError, match=f"{other} database"):
        backup_restore(forged, using=target, media_root=tmp_path / "m")
    assert fingerprint(target) == fingerprint_of_empty(target)


def fingerprint_of_empty(conn) -> dict:
    return {t: v for t, v in fingerprint(conn).items() if v[0]}


@pytest.mark.parametrize(
    "damage",
    ["flip a byte of the database", "flip a byte of an upload", "truncate", "not a tar", "no manifest", "extra member"],
)
def test_it_refuses_a_damaged_archive_and_changes_nothing(populated, target, tmp_path, damage):
    archive = tmp_path / "guanxi.tar"
    backup_create(archive)
    data = bytearray(archive.read_bytes())
    member = backup.SQLITE_MEMBER if connection.vendor == "sqlite" else backup.PG_MEMBER
    if damage == "flip a byte of the database":
        data[_offset(archive, member) + 5000] ^= 0xFF
        archive.write_bytes(data)
    elif damage == "flip a byte of an upload":
        data[_offset(archive, "media/attachments/合同.pdf") + 100] ^= 0x01
        archive.write_bytes(data)
    elif damage == "truncate":
        archive.write_bytes(data[: len(data) // 2])
    elif damage == "not a tar":
        archive.write_bytes(b"PK\x03\x04 this is a zip, not a backup")
    elif damage == "no manifest":
        archive = _rewrite(archive, tmp_path / "bad.tar", drop=backup.MANIFEST)
    else:
        archive = _rewrite(archive, tmp_path / "bad.tar", extra=("../../etc/evil", b"x"))

    with pytest.raises(BackupError, match="damaged|not a Guanxi backup"):
        backup_restore(archive, using=target, media_root=tmp_path / "m")
    with pytest.raises(BackupError):
        backup_inspect(archive)
    assert fingerprint_of_empty(target) == {}
    assert not (tmp_path / "m").exists()


def _offset(archive: Path, name: str) -> int:
    with tarfile.open(archive) as tar:
        return tar.getmember(name).offset_data


def _rewrite(archive: Path, to: Path, *, manifest=None, drop=None, extra=None) -> Path:
    with tarfile.open(archive) as old, tarfile.open(to, "w") as new:
        for member in old:
            if member.name == drop:
                continue
            content = old.extractfile(member).read()
            if member.name == backup.MANIFEST and manifest:
                content = json.dumps(manifest(json.loads(content))).encode()
                member.size = len(content)
            new.addfile(member, io.BytesIO(content))
        if extra:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            new.addfile(info, io.BytesIO(extra[1]))
    return to


def test_it_explains_a_refusal_in_the_installation_language(populated, target, tmp_path):
    archive = tmp_path / "guanxi.tar"
    archive.write_bytes(b"not a backup at all")

    with translation.override("zh-hans"), pytest.raises(BackupError, match="不是关系 CRM 的备份"):
        backup_restore(archive, using=target, media_root=tmp_path / "m")
