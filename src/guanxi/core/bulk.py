"""Writing many rows fast: PostgreSQL COPY, SQLite executemany. The backend switch for bulk paths lives here.

Django's bulk_create compiles every value through the ORM (and on SQLite caps an INSERT at 999 parameters); for the
hundreds of thousands of rows of an import that costs more than the database work itself. These helpers convert
each field once per value with the backend's own adapters and hand the rows to the driver in one go.
"""

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from django.db import connections, models, router
from django.utils import timezone

BATCH = 5000
_PASS_THROUGH = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


SQLITE_BULK_CACHE_KIB = 256 * 1024


@contextmanager
def tuned_for_bulk(using: str = "default") -> Iterator[None]:
    """Around a large write on SQLite: a page cache big enough for the indexes the write touches (the default 2 MB
    makes a 100,000-row transaction spill and re-read pages); the connection's own size comes back afterwards, since
    connections are kept. PostgreSQL needs nothing."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def new_instance(model: type[models.Model], values: dict) -> models.Model:
    """An unsaved `model(**values)` (keys are attnames, e.g. "region_id"), built through the positional fast path
    that Model.from_db uses: several times cheaper than keyword arguments when hundreds of thousands are made."""
    attnames, defaults, index = _layout(model)
    args = [value() if callable(value) else value for value in defaults]
    for key, value in values.items():
        args[index[key]] = value
    return model(*args)


@cache
def _layout(model: type[models.Model]) -> tuple[list[str], list, dict[str, int]]:
    fields = model._meta.concrete_fields
    # A field's default, or the callable that makes it (a fresh dict for each instance, not one shared).
    defaults = [f.default if f.has_default() else f.get_default() for f in fields]
    return [f.attname for f in fields], defaults, {f.attname: i for i, f in enumerate(fields)}


def insert_many(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT unsaved instances of `model` (auto-increment primary key) and set their primary keys.

    What bulk_create does, without signals: auto_now/auto_now_add fields are filled, defaults come from the
    instances. Call it inside a transaction; on SQLite the transaction must hold the write lock (Guanxi opens
    SQLite transactions IMMEDIATE), since the new ids are read from the table.
    """
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor not in ("postgresql", "sqlite") or not _sqlite_locks_early(connection):
        model.objects.bulk_create(objs, batch_size=1000)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    ids = _new_ids(connection, meta, len(objs))
    columns = [meta.pk.column, *(f.column for f in fields)]
    _copy_in(connection, meta.db_table, columns, _rows(objs, fields, connection, leading=ids))
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model: type[models.Model], names: list[str], rows: Iterable[Sequence]) -> None:
    """INSERT plain rows: values of the fields `names` (attnames) in that order; the primary key is left to the
    database and auto_now(_add) fields not named are set to now. For rows nobody reads back (audit entries)."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor not in ("postgresql", "sqlite"):
        model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=1000)
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    stamped = [f for f in meta.concrete_fields if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))]
    stamped = [f for f in stamped if f not in fields]
    stamp = [f.get_db_prep_save(timezone.now(), connection) for f in stamped]
    converters = [(i, c) for i, c in enumerate(_converter(f, connection) for f in fields) if c is not _same]

    def prepared() -> Iterable[list]:
        for values in rows:
            row = list(values)
            for index, convert in converters:
                row[index] = convert(row[index])
            row.extend(stamp)
            yield row

    _copy_in(connection, meta.db_table, [f.column for f in (*fields, *stamped)], prepared())


def _copy_in(connection, table: str, columns: list[str], rows: Iterable[list]) -> None:
    """COPY on PostgreSQL, one prepared INSERT executed for every row on SQLite."""
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {quote(table)} ({column_list}) VALUES ({', '.join(['%s'] * len(columns))})"
            for batch in _batches(rows):
                cursor.executemany(sql, batch)


def update_many(model: type[models.Model], objs: Sequence[models.Model], fields: Iterable[str]) -> None:
    """UPDATE `fields` of saved instances, one prepared statement executed for all rows (executemany)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    targets = [meta.get_field(name) for name in sorted(set(fields))]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in targets)
    sql = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {assignments} "
        f"WHERE {connection.ops.quote_name(meta.pk.column)} = %s"
    )
    rows = _rows(objs, [*targets, meta.pk], connection)
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            cursor.executemany(sql, batch)


def _rows(objs, fields: list[models.Field], connection, leading: list | None = None) -> Iterable[list]:
    """Each object's field values, adapted for the database. Values are read with one attrgetter per object and only
    the fields that need it (dates, JSON …) go through a converter."""
    getter = operator.attrgetter(*(f.attname for f in fields))
    offset = 1 if leading is not None else 0
    special = [(i + offset, c) for i, c in enumerate(_converter(f, connection) for f in fields) if c is not _same]
    single = len(fields) == 1
    for n, obj in enumerate(objs):
        values = (getter(obj),) if single else getter(obj)
        row = [leading[n], *values] if leading is not None else list(values)
        for index, convert in special:
            row[index] = convert(row[index])
        yield row


def _converter(field: models.Field, connection) -> Callable:
    internal = field.get_internal_type()
    ops = connection.ops
    if internal in _PASS_THROUGH:
        return _same
    if internal == "DateTimeField":
        return _remembering(ops.adapt_datetimefield_value)  # a batch mostly repeats one timestamp
    if internal == "DateField":
        return ops.adapt_datefield_value
    if internal == "GenericIPAddressField":
        return lambda value: value or None
    if internal == "JSONField":
        return lambda value: ops.adapt_json_value(value, field.encoder)
    return lambda value: field.get_db_prep_save(value, connection)


def _new_ids(connection, meta, count: int) -> list[int]:
    table, column = meta.db_table, meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite, inside a write transaction: nobody else can insert until it ends. AUTOINCREMENT tables never reuse
        # an id, so start above both the largest id and the largest ever handed out.
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")
        start = cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(start, row[0] if row else 0)
    return list(range(start + 1, start + 1 + count))


def _sqlite_locks_early(connection) -> bool:
    if connection.vendor != "sqlite":
        return True
    mode = (connection.settings_dict.get("OPTIONS") or {}).get("transaction_mode")
    return connection.in_atomic_block and str(mode).upper() in ("IMMEDIATE", "EXCLUSIVE")


def _batches(rows: Iterable[list]) -> Iterable[list[list]]:
    batch: list[list] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _same(value):
    return value


def _remembering(convert: Callable) -> Callable:
    last: list = [object(), None]

    def converted(value):
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return converted
