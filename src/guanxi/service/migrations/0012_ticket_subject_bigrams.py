"""The global search finds tickets by any substring of their subject through the bigram index customer names use.

Without it the "tickets" search kind was an unindexed ILIKE over every ticket in the user's scope, sorted by creation
time: with 1,000,000 tickets one search read the whole table (a parallel scan, ~220 ms; 2.5 s once an index on
created_at let the planner walk it backwards hoping to meet ten matches early) — in the load test a sixth of all
requests are searches. Database objects only, as activities/migrations/0004_subject_bigrams.py.
"""

from django.db import migrations

from guanxi.core import textsearch

TABLE, COLUMN, INDEX = "service_ticket", "subject", "ticket_subject_bigram_idx"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'", params=None)
        schema_editor.execute(textsearch.postgresql_bigram_index_sql(TABLE, COLUMN, INDEX), params=None)
        schema_editor.execute(f"ANALYZE {TABLE}", params=None)
    elif vendor == "sqlite":
        for statement in textsearch.sqlite_bigram_index_sql(TABLE, COLUMN):
            schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)
    elif vendor == "sqlite":
        for statement in textsearch.sqlite_drop_bigram_index_sql(TABLE, COLUMN):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0011_survey_sending"),
        ("customers", "0004_search_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
