"""Hands the partial index of sensitive customers' ids over to the customers app.

sales 0005 created `customers_sensitive_ids_idx` on the customers table with raw SQL; it is now a model index of
customers.Customer, created by customers/migrations/0007_last_visit_and_indexes.py. This drops the sales-made copy if it
exists and runs before that migration (run_before: the customers app knows nothing of sales), so the index is
recreated right after within the same `migrate`. Reversing recreates the copy, as sales 0005 left it."""

from django.db import migrations

INDEX = "customers_sensitive_ids_idx"


class Migration(migrations.Migration):
    dependencies = [("sales", "0005_search_indexes")]
    run_before = [("customers", "0007_last_visit_and_indexes")]

    operations = [
        migrations.RunSQL(
            f'DROP INDEX IF EXISTS "{INDEX}"',
            reverse_sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "customers_customer" ("id") WHERE "sensitive"',
            elidable=False,
        ),
    ]
