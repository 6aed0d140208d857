"""Backup and restore of a whole installation: the database and the uploaded files, in one tar archive.

Archive layout (a plain tar, gzip-compressed when the name ends in .gz or .tgz):

    manifest.json       format version, database vendor, creation time, app version, applied migrations,
                        per-table row counts, and the size and SHA-256 of every other member
    database.sqlite3    SQLite: a copy made with SQLite's online backup API (consistent while the app writes)
    database.pgdump     PostgreSQL: pg_dump's custom format, taken in the same snapshot as the row counts
    media/…             the uploaded files (MEDIA_ROOT)

Restore refuses an archive of another vendor, a damaged archive (any checksum or size differs, or the tar is
unreadable) and, without `force`, a target that already holds data (a user account or an audit entry, or uploaded
files). It writes the database in one step (SQLite backup API; PostgreSQL in one transaction), checks the row counts
against the manifest, then swaps the media directory.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024
# Tables that say whether a database holds anyone's data (migrations seed reference tables, never these).
DATA_TABLES = ("auth_user", "core_auditlog")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, for the operator."""


@dataclass
class Outcome:
    path: Path
    manifest: dict
    seconds: float
    size: int = 0
    notes: list[str] = field(default_factory=list)


# --- backup ---------------------------------------------------------------------------------------------------


def backup_create(path, *, using="default", media_root=None) -> Outcome:
    """Write an archive of the database `using` (an alias or a connection) and of the media directory to `path`
    (replaced atomically)."""
    started = time.monotonic()
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    connection = connections[using] if isinstance(using, str) else using
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    with tempfile.TemporaryDirectory(prefix=".guanxi-backup-", dir=path.parent) as work:
        work = Path(work)
        if vendor == "sqlite":
            member, tables = SQLITE_MEMBER, _sqlite_copy(connection, work / SQLITE_MEMBER)
        else:
            member, tables = PG_MEMBER, _pg_dump(connection, work / PG_MEMBER)
        files = {member: _digest(work / member)}
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        for file in media:
            files[MEDIA_PREFIX + file.relative_to(media_root).as_posix()] = _digest(file)
        manifest = {
            "format": "guanxi-backup",
            "format_version": FORMAT_VERSION,
            "vendor": vendor,
            "created_at": timezone.localtime().isoformat(),
            "app_version": _app_version(),
            "migrations": _migrations(connection),
            "tables": tables,
            "files": files,
        }
        partial = work / "archive.part"
        options = {"compresslevel": 1} if _write_mode(path) == "w:gz" else {}  # level 9 is 10× slower for ~10 %
        with tarfile.open(partial, _write_mode(path), **options) as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            tar.add(work / member, arcname=member)
            for file in media:
                tar.add(file, arcname=MEDIA_PREFIX + file.relative_to(media_root).as_posix())
        os.replace(partial, path)
    return Outcome(path, manifest, time.monotonic() - started, path.stat().st_size)


def _sqlite_copy(connection, target: Path) -> dict[str, int]:
    """SQLite's online backup API in one step: a consistent copy; WAL lets the app keep writing meanwhile."""
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        with connection.wrap_database_errors:
            connection.connection.backup(destination)
        tables = _sqlite_counts(destination)
    finally:
        destination.close()
    return tables


def _sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}  # noqa: S608


def _pg_dump(connection, target: Path) -> dict[str, int]:
    """pg_dump in the snapshot the row counts were taken in: archive and manifest describe the same moment."""
    _check_pg_tools(connection, "pg_dump")
    params = connection.get_connection_params()
    import psycopg

    with psycopg.connect(**_psycopg_params(params), autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables = {
            name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in _pg_tables(conn)
        }
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            params,
        )
        conn.execute("ROLLBACK")
    return tables


def _pg_tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
    )
    return [row[0] for row in rows]


# --- restore --------------------------------------------------------------------------------------------------


def backup_inspect(path) -> dict:
    """The manifest of an archive, after checking every member against it (a damaged archive raises)."""
    with _open(path) as tar, tempfile.TemporaryDirectory(prefix=".guanxi-check-") as work:
        manifest = _read_manifest(tar)
        _extract_checked(tar, manifest, Path(work), database=False)
        return manifest


def backup_restore(path, *, using="default", force: bool = False, media_root=None) -> Outcome:
    """Replace the database `using` (an alias or a connection) and the media directory with the archive's contents."""
    started = time.monotonic()
    path = Path(path).resolve()
    media_root = Path(media_root or settings.MEDIA_ROOT)
    connection = connections[using] if isinstance(using, str) else using
    with _open(path) as tar:
        manifest = _read_manifest(tar)
        if manifest["vendor"] != connection.vendor:
            raise BackupError(
                _(
                    "This backup is of a %(archive)s database; the target database is %(target)s. "
                    "Restore it into a %(archive)s database."
                )
                % {"archive": manifest["vendor"], "target": connection.vendor}
            )
        if not force:
            _refuse_if_not_empty(connection, media_root)
        media_root.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".guanxi-restore-", dir=media_root.parent) as work:
            work = Path(work)
            _extract_checked(tar, manifest, work, database=True)
            if connection.vendor == "sqlite":
                _sqlite_restore(connection, work / SQLITE_MEMBER)
            else:
                _pg_restore(connection, work / PG_MEMBER)
            counts = _current_counts(connection)
            wrong = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
            if wrong:
                details = ", ".join(f"{t}: {n} → {m}" for t, (n, m) in sorted(wrong.items())[:10])
                raise BackupError(_("The restored tables do not match the backup: %(tables)s.") % {"tables": details})
            _swap_media(work / "media", media_root)
    outcome = Outcome(path, manifest, time.monotonic() - started, path.stat().st_size)
    if manifest.get("migrations") != _migrations(connection, code=True):
        outcome.notes.append(_("The backup was made by another version of Guanxi: run “guanxi migrate” now."))
    return outcome


def _open(path) -> tarfile.TarFile:
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("There is no backup at %(path)s.") % {"path": path})
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(
            _("%(path)s is not a Guanxi backup or it is damaged: %(error)s") % {"path": path, "error": exc}
        ) from exc


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, tarfile.TarError, OSError, EOFError, ValueError, AttributeError) as exc:
        raise BackupError(_("This file is not a Guanxi backup or it is damaged (no readable manifest).")) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "guanxi-backup":
        raise BackupError(_("This file is not a Guanxi backup or it is damaged (no readable manifest)."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _("This backup has format version %(found)s; this Guanxi reads version %(supported)s.")
            % {"found": manifest.get("format_version"), "supported": FORMAT_VERSION}
        )
    return manifest


def _extract_checked(tar: tarfile.TarFile, manifest: dict, work: Path, *, database: bool) -> None:
    """Extract into `work` (media under work/media), checking names, sizes and SHA-256 against the manifest."""
    expected = dict(manifest.get("files") or {})
    seen = set()
    try:
        for member in tar:
            name = member.name
            if name == MANIFEST:
                continue
            if name not in expected or not member.isfile():
                raise BackupError(_("The backup is damaged: unexpected member “%(name)s”.") % {"name": name})
            target = work / name
            if not database and not name.startswith(MEDIA_PREFIX):
                target = None  # only checked
            digest, size = hashlib.sha256(), 0
            source = tar.extractfile(member)
            sink = None
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                sink = open(target, "wb")  # noqa: SIM115 - closed below
            try:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    if sink:
                        sink.write(chunk)
            finally:
                if sink:
                    sink.close()
            if [size, digest.hexdigest()] != expected[name]:
                raise BackupError(_("The backup is damaged: “%(name)s” does not match its checksum.") % {"name": name})
            seen.add(name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(_("The backup is damaged: %(error)s") % {"error": exc}) from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(_("The backup is damaged: “%(name)s” is missing.") % {"name": missing[0]})


def _refuse_if_not_empty(connection, media_root: Path) -> None:
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in DATA_TABLES:
            if table in tables:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
                if cursor.fetchone():
                    raise BackupError(
                        _(
                            "The target database already holds data (%(table)s). Restore into an empty database, "
                            "or add --force to replace everything in it."
                        )
                        % {"table": table}
                    )
    if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
        raise BackupError(
            _(
                "The media directory %(path)s already holds files. Restore into an empty installation, "
                "or add --force to replace them."
            )
            % {"path": media_root}
        )


def _sqlite_restore(connection, source: Path) -> None:
    """Copy the archived database over the live one with the backup API: one write transaction, WAL-safe."""
    connection.close()
    connection.ensure_connection()
    origin = sqlite3.connect(source)
    try:
        with connection.wrap_database_errors:
            origin.backup(connection.connection)
    finally:
        origin.close()
    connection.close()


def _pg_restore(connection, dump: Path) -> None:
    """Drop what the schema holds and load the dump, all in one transaction (psql --single-transaction): a failed
    restore leaves the database as it was."""
    _check_pg_tools(connection, "pg_restore")
    params = connection.get_connection_params()
    connection.close()
    import psycopg

    with psycopg.connect(**_psycopg_params(params)) as conn:
        rows = conn.execute(
            "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'i', 'a'))"
        ).fetchall()
        # Functions (trigger functions of the text search …), text search configurations and types of the schema.
        others = conn.execute(
            "SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p "
            "WHERE p.pronamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') "
            "UNION ALL SELECT 'TEXT SEARCH CONFIGURATION', c.oid::regconfig::text FROM pg_ts_config c "
            "WHERE c.cfgnamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
            "UNION ALL SELECT 'TYPE', t.oid::regtype::text FROM pg_type t "
            "WHERE t.typnamespace = current_schema()::regnamespace "
            "AND t.typtype IN ('e', 'd') "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"
        ).fetchall()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}
    drops = "SET client_min_messages = warning;\n"
    drops += "".join(f'DROP {kinds[kind]} IF EXISTS "{name}" CASCADE;\n' for kind, name in rows)
    drops += "".join(f"DROP {kind} IF EXISTS {name} CASCADE;\n" for kind, name in others)
    env = _pg_env(params)
    loader = subprocess.Popen(
        ["psql", "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1", "--output=/dev/null"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    reader = subprocess.Popen(
        ["pg_restore", "--no-owner", "--no-privileges", "--no-comments", "--file=-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        loader.stdin.write(drops.encode())
        shutil.copyfileobj(reader.stdout, loader.stdin, CHUNK)
    except BrokenPipeError:
        pass
    finally:
        loader.stdin.close()
    reader_err = reader.stderr.read().decode(errors="replace")
    loader_err = loader.stderr.read().decode(errors="replace")
    if reader.wait() != 0 or loader.wait() != 0:
        raise BackupError(
            _("PostgreSQL refused the restore; the database is unchanged: %(error)s")
            % {"error": (reader_err or loader_err).strip()[-2000:]}
        )


def _current_counts(connection) -> dict[str, int]:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return _sqlite_counts(connection.connection)
    import psycopg

    with psycopg.connect(**_psycopg_params(connection.get_connection_params())) as conn:
        return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in _pg_tables(conn)}  # noqa: S608


def _swap_media(extracted: Path, media_root: Path) -> None:
    extracted.mkdir(parents=True, exist_ok=True)
    old = media_root.with_name(media_root.name + ".before-restore")
    if old.exists():
        shutil.rmtree(old)
    if media_root.exists():
        os.replace(media_root, old)
    os.replace(extracted, media_root)
    if old.exists():
        shutil.rmtree(old)


# --- helpers --------------------------------------------------------------------------------------------------


def _psycopg_params(params: dict) -> dict:
    keep = ("dbname", "user", "password", "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey")
    return {key: value for key, value in params.items() if key in keep and value not in (None, "")}


def _pg_env(params: dict) -> dict:
    env = dict(os.environ)
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD", "host": "PGHOST", "port": "PGPORT"}
    names.update({"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"})
    for key, value in _psycopg_params(params).items():
        env[names[key]] = str(value)
    return env


def _run(command: list[str], params: dict) -> None:
    done = subprocess.run(command, env=_pg_env(params), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": command[0], "error": done.stderr.strip()[:2000]})


def _check_pg_tools(connection, tool: str) -> None:
    """The client tools must exist and be at least as new as the server (pg_dump refuses a newer server)."""
    if shutil.which(tool) is None or shutil.which("psql") is None:
        raise BackupError(_("%(tool)s is not installed (PostgreSQL client tools).") % {"tool": tool})
    output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    try:
        client = int(output.split()[-1].split(".")[0])
    except (IndexError, ValueError):
        return
    connection.ensure_connection()
    server = connection.pg_version // 10000
    if client < server:
        raise BackupError(
            _(
                "%(tool)s is version %(client)s but the server runs PostgreSQL %(server)s; "
                "install client tools %(server)s."
            )
            % {"tool": tool, "client": client, "server": server}
        )


def _digest(path: Path) -> list:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return [size, digest.hexdigest()]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


def _write_mode(path: Path) -> str:
    return "w:gz" if path.name.endswith((".gz", ".tgz")) else "w"


def _app_version() -> str:
    try:
        return metadata.version("guanxi")
    except metadata.PackageNotFoundError:
        return "unknown"


def _migrations(connection, *, code: bool = False) -> dict[str, str]:
    """The latest migration per app: applied in the database, or (code=True) known to this version of the code."""
    if code:
        from django.db.migrations.loader import MigrationLoader

        nodes = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()
    elif "django_migrations" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            nodes = cursor.fetchall()
    else:
        nodes = []
    latest: dict[str, str] = {}
    for app, name in nodes:
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))
