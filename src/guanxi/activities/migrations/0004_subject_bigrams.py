"""The global search finds activities by any substring of their subject through the bigram index customer names use.

Without it the "activities" search kind was an unindexed ILIKE over every activity in the user's scope: with
10,000,000 activities one search by an account manager with 830,000 of them read for minutes (bench, issue 6).
Database objects only, as customers/migrations/0004_search_indexes.py; the bigram function and SQLite's positions
table come from there.
"""

from django.db import migrations

from guanxi.core import textsearch

TABLE, COLUMN, INDEX = "activities_activity", "subject", "activity_subject_bigram_idx"


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
        ("activities", "0003_drop_redundant_fk_indexes"),
        ("customers", "0004_search_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
