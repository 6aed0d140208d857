"""Substring search on text columns, indexed on both databases: any substring of two or more characters is found.

Chinese has no spaces between words, so word-based full-text search (and pg_trgm, whose trigrams cannot serve a
two-character query such as 钢铁) does not fit. Both backends index the overlapping character *bigrams* of a column
and keep that index up to date inside the database, so every write path (ORM saves, bulk_create, COPY, raw SQL) is
covered without application code:

- PostgreSQL: a GIN expression index on ``guanxi_bigrams(column)`` (an IMMUTABLE function returning the lower-cased
  bigrams as text[]); a query asks ``guanxi_bigrams(column) @> guanxi_bigrams('钢铁')``.
- SQLite: a contentless FTS5 table ``<table>_<column>_bigrams`` holding the bigrams as space-separated tokens, kept in
  step by triggers; a query is an FTS5 phrase of the query's bigrams, which matches exactly the rows that contain
  the query as a substring.

Either way the index only narrows the candidates; a case-insensitive substring test on the column decides.
No query sorts the matches: a frequent term (有限 is in half of all company names) must stop at the LIMIT. See
docs/search.md for the reasons and the measurements.

The ``*_sql`` functions build the DDL that migrations run (see customers/migrations/0004_search_indexes.py), and
``BigramIndexes`` is the migration operation that indexes further columns with it. Their output is part of existing
migrations: change it only together with a new migration.
"""

import time
import unicodedata

from django.db import connections, router
from django.db.migrations.operations.base import Operation
from django.db.models import BooleanField, F, Func, QuerySet, Value
from django.db.models.expressions import RawSQL

MIN_TERM_LENGTH = 2  # a bigram index cannot narrow a one-character term; such terms only filter
SQLITE_POSITIONS_TABLE = "guanxi_search_positions"
SQLITE_MAX_POSITION = 1000  # the longest column a SQLite bigram index covers (names are at most 200 characters)
SQLITE_CANDIDATES = 2000  # FTS5 rowids a SQLite search reads first (see substring_matches)
PG_RARE_CANDIDATES = 1000  # a rare term's matching ids PostgreSQL reads from the index first (see _rare_candidates)
STATISTICS_TTL = 900.0  # seconds a process keeps PostgreSQL's frequent-bigram statistics of an index

# --------------------------------------------------------------------------------------------------------------------
# Queries


class BigramsContain(Func):
    """PostgreSQL: ``guanxi_bigrams(column) @> guanxi_bigrams(term)``, served by the GIN expression index."""

    output_field = BooleanField()

    def __init__(self, column: str, term: str):
        super().__init__(F(column), Value(term))

    def as_sql(self, compiler, connection, **extra_context):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        term_sql, term_params = compiler.compile(self.source_expressions[1])
        return f"guanxi_bigrams({column_sql}) @> guanxi_bigrams({term_sql})", (*column_params, *term_params)


class ContainsFolded(Func):
    """PostgreSQL: ``strpos(lower(column), lower(term)) <> 0``: the recheck of a bigram lookup, case-insensitive.

    Not ILIKE, although it means the same: the planner estimates ILIKE '%钢铁%' from the column's statistics *and* the
    bigram condition from the index's, and multiplies the two as if they were independent, so a word in 2 % of names
    looks like 0.04 % and gets a bitmap over every index entry (20-40 ms) instead of a scan that stops at the LIMIT
    after a few hundred rows (0.2 ms). The planner takes this form as true for 99.5 % of rows, which leaves the
    estimate to the bigram condition alone.
    """

    output_field = BooleanField()

    def __init__(self, column: str, term: str):
        super().__init__(F(column), Value(term))

    def as_sql(self, compiler, connection, **extra_context):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        term_sql, term_params = compiler.compile(self.source_expressions[1])
        return f"strpos(lower({column_sql}), lower({term_sql})) <> 0", (*column_params, *term_params)


def bigram_text(value: str) -> str:
    """The overlapping bigrams of `value`, space-separated, as the SQLite triggers write them."""
    return " ".join(value[i : i + 2] for i in range(len(value) - 1))


def fts_phrase(term: str) -> str:
    """An FTS5 phrase of the term's bigrams: consecutive bigram tokens, i.e. the term as a substring."""
    return '"' + bigram_text(term).replace('"', '""') + '"'


def sqlite_fts_table(table: str, column: str) -> str:
    return f"{table}_{column}_bigrams"


def substring_matches(queryset: QuerySet, column: str, terms: list[str], limit: int) -> list:
    """At most `limit` rows of `queryset` whose `column` contains every term (case-insensitive), in no set order.

    Terms shorter than MIN_TERM_LENGTH only filter; without a longer term the answer is empty (nothing to look up).
    `queryset` may be a values() queryset: the rows are then dicts.
    """
    return substring_matches_in_parts([queryset], column, terms, limit)


def substring_matches_in_parts(parts: list[QuerySet], column: str, terms: list[str], limit: int) -> list:
    """substring_matches() of each queryset of `parts` (querysets of one model: the parts of a user's scope, see
    activity_scope_parts), at most `limit` rows of each, part after part; the same row may come more than once.

    On PostgreSQL a rare term's candidate ids are read from the index once for all the parts (they depend on the
    index, not on the part): an account manager's ticket search read the same ids four times.
    """
    indexed = [term for term in terms if len(term) >= MIN_TERM_LENGTH]
    if not indexed or not parts:
        return []
    vendor = connections[parts[0].db].vendor
    if vendor == "postgresql":
        return _postgresql_matches(parts, column, indexed, terms, limit)
    rows = []
    for queryset in parts:
        rows += _other_matches(queryset, vendor, column, indexed, terms, limit)
    return rows


def _postgresql_matches(parts: list[QuerySet], column: str, indexed: list[str], terms: list[str], limit: int) -> list:
    model, alias = parts[0].model, parts[0].db
    parts = [part for part in parts if not part.query.is_empty()]
    if not parts:
        return []
    frequent = frequent_bigrams(alias, model._meta.db_table, column)
    if frequent and any(_is_rare(term, frequent) for term in indexed):
        candidates = _rare_candidates(model, alias, column, indexed, terms, frequent)
        if candidates is not None:
            # The candidates are exactly the rows matching every term: the parts' queries only apply the scope to
            # them (through the primary key), nothing to look up or recheck again.
            rows = []
            for part in parts if candidates else ():
                rows += part.filter(pk__in=candidates)[:limit]
            return rows
    rows = []
    for part in parts:
        rows += _matching(part, column, indexed, terms, frequent)[:limit]
    return rows


def _other_matches(queryset: QuerySet, vendor: str, column: str, indexed: list[str], terms: list[str], limit: int):
    for term in terms:
        queryset = queryset.filter(**{f"{column}__icontains": term})
    # SQLite: a term of punctuation only (（）) leaves the tokenizer nothing: it filters, alone it falls back to LIKE.
    phrases = [fts_phrase(term) for term in indexed if any(_is_token_character(c) for c in term)]
    if vendor != "sqlite" or not phrases:
        return list(queryset[:limit])
    # SQLite materialises `id IN (SELECT rowid …)`: all 50,000 rowids of 有限 before the LIMIT. The first
    # SQLITE_CANDIDATES are enough unless the scope or the other filters drop most of them; then all are read.
    table = sqlite_fts_table(queryset.model._meta.db_table, column)
    candidates = f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH %s'
    match = " ".join(phrases)
    rows = list(queryset.filter(pk__in=RawSQL(f"{candidates} LIMIT {SQLITE_CANDIDATES}", [match]))[:limit])
    if len(rows) < limit:
        rows = list(queryset.filter(pk__in=RawSQL(candidates, [match]))[:limit])
    return rows


def _matching(queryset: QuerySet, column: str, indexed: list[str], terms: list[str], frequent: dict) -> QuerySet:
    return matching_keys(queryset, column, [index_key(term, frequent) for term in indexed], terms)


def matching_keys(queryset: QuerySet, column: str, keys: list[str], terms: list[str]) -> QuerySet:
    """PostgreSQL: `queryset`'s rows whose bigram index holds every key (index_key of each indexed term) and whose
    `column` contains every term."""
    for key in keys:
        queryset = queryset.filter(BigramsContain(column, key))
    for term in terms:
        queryset = queryset.filter(ContainsFolded(column, term))
    return queryset


def _is_rare(term: str, frequent: dict[str, float]) -> bool:
    """A bigram of `term` is not among the index's most common ones: the term is in fewer rows than the least common
    of those (a bounded number), but PostgreSQL, with no statistics for it, guesses a fixed share of the rows."""
    return any(term.lower()[i : i + 2] not in frequent for i in range(len(term) - 1))


def _rare_candidates(model, alias: str, column: str, indexed: list, terms: list, frequent: dict) -> list | None:
    """The ids of every row matching a rare term, from the bigram index alone; None when there are PG_RARE_CANDIDATES
    or more (then the term was not rare enough to matter).

    With a narrowing condition that has an index of its own (an account manager's activities: owner = me) and a LIMIT,
    the planner's guess (0.5 % of the rows match) makes it walk that index and test each row, expecting to stop
    after a few hundred; for a word in none of them it walked all 830,000 of the owner's activities (5.9 s on the
    bench). The index alone answers a rare term in well under a millisecond; the scoped query then reads those ids."""
    candidates = _matching(model._base_manager.db_manager(alias).order_by(), column, indexed, terms, frequent)
    ids = list(candidates.values_list("pk", flat=True)[:PG_RARE_CANDIDATES])
    return ids if len(ids) < PG_RARE_CANDIDATES else None


def index_key(term: str, frequent: dict[str, float]) -> str:
    """What to look up in the GIN index for `term`: the whole term, or its rarest bigram when all of them are frequent.

    The planner multiplies the frequencies of a term's bigrams as if they were independent. For 物业管理 (物业, 业管
    and 管理 each in 9 % of names, always together) it expects 700 rows instead of 89,000, builds a bitmap of 89,000
    index entries and answers in 20-40 ms, where a sequential scan stopping at the LIMIT takes 0.1 ms. Given only the
    rarest bigram it estimates right and chooses well. A term with a rare bigram (not among the frequent ones) keeps
    all of its bigrams: the rare one drives the index scan and the others narrow it further.
    """
    grams = {term.lower()[i : i + 2] for i in range(len(term) - 1)}
    if len(grams) > 1 and all(gram in frequent for gram in grams):
        return min(sorted(grams), key=frequent.__getitem__)
    return term


_statistics: dict[tuple[str, str, str], tuple[float, dict[str, float]]] = {}


def frequent_bigrams(alias: str, table: str, column: str) -> dict[str, float]:
    """{bigram: share of rows} of the most common bigrams of table.column (PostgreSQL's statistics of its index).

    Read from pg_stats once per STATISTICS_TTL per process; empty until the table has been analysed.
    """
    key = (alias, table, column)
    cached = _statistics.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    with connections[alias].cursor() as cursor:
        cursor.execute(
            """SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'guanxi_bigrams'
               WHERE i.indrelid = %s::regclass AND pg_get_indexdef(i.indexrelid, 1, true) ~ %s
               LIMIT 1""",
            [table, rf"^guanxi_bigrams\(\(?{column}\M"],
        )
        row = cursor.fetchone()
    frequencies = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _statistics[key] = (time.monotonic() + STATISTICS_TTL, frequencies)
    return frequencies


def _is_token_character(character: str) -> bool:
    """What FTS5's unicode61 tokenizer keeps: letters, numbers and private-use characters; the rest separates."""
    return unicodedata.category(character)[0] in "LN" or unicodedata.category(character) == "Co"


class NotEmpty(Func):
    """``column <> ''`` written out, no parameter: the predicate of a partial index, which SQLite must see verbatim."""

    output_field = BooleanField()
    template = "%(expressions)s <> ''"


class Tail4(Func):
    """The last four characters of a column: RIGHT(x, 4) / SUBSTR(x, -4), written as the expression indexes are."""

    template = "RIGHT(%(expressions)s, 4)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="SUBSTR(%(expressions)s, -4)", **extra_context)


class WithoutHyphens(Func):
    """REPLACE(x, '-', ''): a landline as digits (0452-2345678 → 04522345678), as its expression index has it."""

    template = "REPLACE(%(expressions)s, '-', '')"


# --------------------------------------------------------------------------------------------------------------------
# DDL for migrations


def postgresql_function_sql() -> str:
    # plpgsql: about three times faster than the same loop as an SQL function (generate_series + array_agg), which
    # matters when an index over millions of rows is built. IMMUTABLE, so it may serve an expression index.
    return """
CREATE OR REPLACE FUNCTION guanxi_bigrams(value text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    folded text := lower(value);
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(folded) - 1 LOOP
        grams := grams || substr(folded, i, 2);
    END LOOP;
    RETURN grams;
END
$$;
COMMENT ON FUNCTION guanxi_bigrams(text) IS
    'Overlapping lower-cased character bigrams; GIN indexes on it serve substring search (guanxi.core.textsearch).';
"""


def postgresql_drop_function_sql() -> str:
    return "DROP FUNCTION IF EXISTS guanxi_bigrams(text);"


def postgresql_bigram_index_sql(table: str, column: str, index: str) -> str:
    # fastupdate off: no pending list for every search to scan; each write updates the index directly.
    return (
        f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" USING gin (guanxi_bigrams("{column}")) '
        "WITH (fastupdate = off);"
    )


def sqlite_positions_sql() -> list[str]:
    """A table of the numbers 1..SQLITE_MAX_POSITION: the triggers cut a value into bigrams by joining it."""
    return [
        f'CREATE TABLE IF NOT EXISTS "{SQLITE_POSITIONS_TABLE}" (n INTEGER PRIMARY KEY)',
        f'INSERT OR IGNORE INTO "{SQLITE_POSITIONS_TABLE}" (n) WITH RECURSIVE p(n) AS '
        f"(SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {SQLITE_MAX_POSITION}) SELECT n FROM p",
    ]


def sqlite_drop_positions_sql() -> list[str]:
    return [f'DROP TABLE IF EXISTS "{SQLITE_POSITIONS_TABLE}"']


def _sqlite_bigrams(expression: str) -> str:
    # Same text as bigram_text(): a subquery ordered by position (group_concat follows the order rows arrive in).
    return (
        f"(SELECT group_concat(gram, ' ') FROM (SELECT substr({expression}, n, 2) AS gram "
        f'FROM "{SQLITE_POSITIONS_TABLE}" WHERE n < length({expression}) ORDER BY n))'
    )


def sqlite_bigram_index_sql(table: str, column: str) -> list[str]:
    """The FTS5 table for `table`.`column`, its triggers, and the rows already there."""
    fts = sqlite_fts_table(table, column)
    new, old = _sqlite_bigrams(f'new."{column}"'), _sqlite_bigrams(f'old."{column}"')
    existing = _sqlite_bigrams(f'"{table}"."{column}"')
    # The tokenizer splits the bigram text on spaces and punctuation and folds case; a query's phrase goes through
    # the same tokenizer, so document and query tokens agree. Contentless: only rowids are read back.
    return [
        f"CREATE VIRTUAL TABLE \"{fts}\" USING fts5(grams, content='', tokenize='unicode61 remove_diacritics 0')",
        f'CREATE TRIGGER "{fts}_insert" AFTER INSERT ON "{table}" BEGIN '
        f'INSERT INTO "{fts}" (rowid, grams) VALUES (new.id, {new}); END',
        f'CREATE TRIGGER "{fts}_delete" AFTER DELETE ON "{table}" BEGIN '
        f'INSERT INTO "{fts}" ("{fts}", rowid, grams) VALUES (\'delete\', old.id, {old}); END',
        f'CREATE TRIGGER "{fts}_update" AFTER UPDATE OF "{column}" ON "{table}" '
        f'WHEN old."{column}" IS NOT new."{column}" BEGIN '
        f'INSERT INTO "{fts}" ("{fts}", rowid, grams) VALUES (\'delete\', old.id, {old}); '
        f'INSERT INTO "{fts}" (rowid, grams) VALUES (new.id, {new}); END',
        f'INSERT INTO "{fts}" (rowid, grams) SELECT id, {existing} FROM "{table}"',
    ]


def sqlite_drop_bigram_index_sql(table: str, column: str) -> list[str]:
    fts = sqlite_fts_table(table, column)
    return [f'DROP TRIGGER IF EXISTS "{fts}_{event}"' for event in ("insert", "delete", "update")] + [
        f'DROP TABLE IF EXISTS "{fts}"'
    ]


class BigramIndexes(Operation):
    """Migration operation: a bigram index on each (table, column, PostgreSQL index name) of `indexes` — the GIN
    expression index on PostgreSQL, the FTS5 table and its triggers on SQLite — dropped again when unapplied.
    Database objects only, no model state; the bigram function and SQLite's positions table come from
    customers/migrations/0004_search_indexes.py, which every migration using this depends on.

    `existing_rows`: the tables may already hold many rows, so PostgreSQL builds with more memory and analyses them
    afterwards (the planner must know frequent bigrams from rare ones); False for a table created in the same
    migration. An operation rather than RunPython so that `guanxi sqlmigrate` shows the DDL.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, indexes: list[tuple[str, str, str]], existing_rows: bool = True):
        self.indexes = [tuple(index) for index in indexes]
        self.existing_rows = existing_rows

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if router.allow_migrate(schema_editor.connection.alias, app_label):
            for statement in self.create_sql(schema_editor.connection.vendor):
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if router.allow_migrate(schema_editor.connection.alias, app_label):
            for statement in self.drop_sql(schema_editor.connection.vendor):
                schema_editor.execute(statement, params=None)

    def create_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            tables = list(dict.fromkeys(table for table, _column, _index in self.indexes))
            return [
                *(["SET LOCAL maintenance_work_mem = '256MB'"] if self.existing_rows else []),
                *(postgresql_bigram_index_sql(table, column, index) for table, column, index in self.indexes),
                *([f"ANALYZE {table}" for table in tables] if self.existing_rows else []),
            ]
        if vendor == "sqlite":
            return [sql for table, column, _index in self.indexes for sql in sqlite_bigram_index_sql(table, column)]
        return []

    def drop_sql(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [f"DROP INDEX IF EXISTS {index}" for _table, _column, index in self.indexes]
        if vendor == "sqlite":
            return [sql for table, column, _ in self.indexes for sql in sqlite_drop_bigram_index_sql(table, column)]
        return []

    def describe(self) -> str:
        return "Bigram search index on " + ", ".join(f"{table}.{column}" for table, column, _index in self.indexes)

    @property
    def migration_name_fragment(self) -> str:
        return "bigram_indexes"
