"""Indexes of the global search (J8): names by substring, phones by full number and last four digits.

Database objects only (no model state): a bigram index per name column (PostgreSQL: GIN expression index on
guanxi_bigrams(); SQLite: FTS5 table kept by triggers, see guanxi.core.textsearch) and expression indexes on phone
tails and landline digits. All are maintained by the database, so bulk_create and COPY need no extra step.
On PostgreSQL the build holds a SHARE lock (writes wait, reads go on): 35-50 s for 1,000,000 customers and 3,000,000
contacts on two busy cores. Indexes that exist already (created CONCURRENTLY by hand) are kept (docs/search.md).
"""

from django.db import migrations

from guanxi.core import textsearch

BIGRAM_COLUMNS = [
    # (table, column, PostgreSQL index name)
    ("customers_customer", "name", "customer_name_bigram_idx"),
    ("customers_contact", "name", "contact_name_bigram_idx"),
]

# customers.search: Tail4("mobile") = '1234', WithoutHyphens("landline") = '04522345678', Tail4(WithoutHyphens(...)).
# Landline indexes are partial: most contacts have none. customers.search writes the predicate verbatim (NotEmpty),
# which SQLite needs to use them; and without it SQLite's statistics (all of 300,000 landlines the same '') make it
# scan the table.
POSTGRESQL_PHONE_INDEXES = [
    "CREATE INDEX IF NOT EXISTS contact_mobile_tail_idx ON customers_contact (right(mobile, 4))",
    "CREATE INDEX IF NOT EXISTS contact_landline_digits_idx ON customers_contact (replace(landline, '-', '')) "
    "WHERE landline <> ''",
    "CREATE INDEX IF NOT EXISTS contact_landline_tail_idx ON customers_contact "
    "(right(replace(landline, '-', ''), 4)) "
    "WHERE landline <> ''",
]
SQLITE_PHONE_INDEXES = [
    "CREATE INDEX IF NOT EXISTS contact_mobile_tail_idx ON customers_contact (substr(mobile, -4))",
    "CREATE INDEX IF NOT EXISTS contact_landline_digits_idx ON customers_contact (replace(landline, '-', '')) "
    "WHERE landline <> ''",
    "CREATE INDEX IF NOT EXISTS contact_landline_tail_idx ON customers_contact "
    "(substr(replace(landline, '-', ''), -4)) "
    "WHERE landline <> ''",
]
PHONE_INDEX_NAMES = ["contact_mobile_tail_idx", "contact_landline_digits_idx", "contact_landline_tail_idx"]


def _run(schema_editor, statements) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, ["SET LOCAL maintenance_work_mem = '256MB'", textsearch.postgresql_function_sql()])
        _run(schema_editor, [textsearch.postgresql_bigram_index_sql(*columns) for columns in BIGRAM_COLUMNS])
        _run(schema_editor, POSTGRESQL_PHONE_INDEXES)
        # Statistics on the index expressions, so the planner knows frequent bigrams (有限, 公司) from rare ones.
        _run(schema_editor, ["ANALYZE customers_customer", "ANALYZE customers_contact"])
    elif vendor == "sqlite":
        _run(schema_editor, textsearch.sqlite_positions_sql())
        for table, column, _index in BIGRAM_COLUMNS:
            _run(schema_editor, textsearch.sqlite_bigram_index_sql(table, column))
        _run(schema_editor, SQLITE_PHONE_INDEXES)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        indexes = [index for _table, _column, index in BIGRAM_COLUMNS] + PHONE_INDEX_NAMES
        _run(schema_editor, [f"DROP INDEX IF EXISTS {index}" for index in indexes])
        _run(schema_editor, [textsearch.postgresql_drop_function_sql()])
    elif vendor == "sqlite":
        _run(schema_editor, [f"DROP INDEX IF EXISTS {index}" for index in PHONE_INDEX_NAMES])
        for table, column, _index in BIGRAM_COLUMNS:
            _run(schema_editor, textsearch.sqlite_drop_bigram_index_sql(table, column))
        _run(schema_editor, textsearch.sqlite_drop_positions_sql())


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_merge_tombstones_name_key"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
