"""The global search finds activities by any substring of their subject through the bigram index customer names use.

Without it the "activities" search kind was an unindexed ILIKE over every activity in the user's scope: with
10,000,000 activities one search by an account manager with 830,000 of them read for minutes (bench, issue 6).
Database objects only, as customers/migrations/0004_search_indexes.py; the bigram function and SQLite's positions
table come from there.
"""

from django.db import migrations

from guanxi.core import textsearch


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0003_drop_redundant_fk_indexes"),
        ("customers", "0004_search_indexes"),
    ]

    operations = [textsearch.BigramIndexes([("activities_activity", "subject", "activity_subject_bigram_idx")])]
