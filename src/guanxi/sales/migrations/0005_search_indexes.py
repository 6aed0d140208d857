"""The global search finds leads and deals by any substring of their names through the bigram index customer names use.

Without it the "leads" and "opportunities" search kinds were unindexed ILIKEs over every lead and deal in the user's
scope (issue 4). Indexed columns: a lead's company/person name and contact name, a deal's name (a deal's customer is
found through the customers' own name index). Database objects only, as customers/migrations/0004_search_indexes.py
and activities/migrations/0004_subject_bigrams.py; the bigram function and SQLite's positions table come from the
customers migration.

Also a partial index of the few sensitive customers' ids: the deals' sensitive-customer rule is
`customer_id NOT IN (SELECT id FROM customers_customer WHERE sensitive)` (sales.deals_selectors.opportunity_queryset),
read once per query from this index instead of joining every deal of a kanban board to its customer. It lives here
because only the sales scope asks for it; customers' own queries never filter on sensitive alone.
"""

from django.db import migrations

from guanxi.core import textsearch

INDEXES = [
    ("sales_lead", "company_name", "sales_lead_company_bigram_idx"),
    ("sales_lead", "contact_name", "sales_lead_contact_bigram_idx"),
    ("sales_opportunity", "name", "sales_opp_name_bigram_idx"),
]

SENSITIVE_INDEX = "customers_sensitive_ids_idx"


def create_sensitive_index(apps, schema_editor):
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{SENSITIVE_INDEX}" ON "customers_customer" ("id") WHERE "sensitive"', params=None
    )


def drop_sensitive_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{SENSITIVE_INDEX}"', params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0004_seed_tariffs"),
        ("customers", "0004_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_sensitive_index, drop_sensitive_index, elidable=False),
        textsearch.BigramIndexes(INDEXES),
    ]
