"""The global search finds tickets by any substring of their subject through the bigram index customer names use.

Without it the "tickets" search kind was an unindexed ILIKE over every ticket in the user's scope, sorted by creation
time: with 1,000,000 tickets one search read the whole table (a parallel scan, ~220 ms; 2.5 s once an index on
created_at let the planner walk it backwards hoping to meet ten matches early) — in the load test a sixth of all
requests are searches. Database objects only, as activities/migrations/0004_subject_bigrams.py.
"""

from django.db import migrations

from guanxi.core import textsearch


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0011_survey_sending"),
        ("customers", "0004_search_indexes"),
    ]

    operations = [textsearch.BigramIndexes([("service_ticket", "subject", "ticket_subject_bigram_idx")])]
