"""A customer's last done visit (`last_visit_at`, kept by the activity services, filled from the existing activities
by activities/migrations/0007_fill_last_visits.py) and the index the overdue-visit list reads it through; and the
partial index of the sensitive customers' ids, now declared on the model it indexes.

That partial index was created by sales/migrations/0005_search_indexes.py, outside the customers' migration state;
sales 0006 drops that copy (IF EXISTS) and runs before this migration, which creates it as a model index on SQLite and
PostgreSQL alike.

On PostgreSQL also statistics of the dependency between a customer's owner and owning team: the overdue list reads
one manager's customers within the user's teams (owner = … AND org_unit_id IN …); assuming the two independent, the
planner expected a hundredth of the rows, sorted them all from a bitmap scan instead of reading the first ones in
order from customer_visit_due_idx (16 ms instead of 120 ms for a team of 16,771 customers)."""

import django.db.models.functions.comparison
from django.db import migrations, models

STATISTICS = "customer_owner_unit_stats"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (dependencies) ON owner_id, org_unit_id "
            "FROM customers_customer"
        )
        schema_editor.execute("ANALYZE customers_customer")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_contact_email_index")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="last_visit_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last visit"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("sensitive", True)), fields=["id"], name="customers_sensitive_ids_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                models.F("owner"),
                models.F("grade"),
                django.db.models.functions.comparison.Coalesce("last_visit_at", "created_at"),
                models.F("id"),
                condition=models.Q(("archived_at__isnull", True), ("merged_into__isnull", True)),
                name="customer_visit_due_idx",
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]
