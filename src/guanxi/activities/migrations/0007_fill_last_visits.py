"""Fills Customer.last_visit_at (customers 0007) from the existing activities: the newest done visit per customer.

One UPDATE … FROM (SELECT … GROUP BY) over the done visits (the rows of the partial index activity_done_visit_idx),
the same statement on SQLite (≥ 3.33) and PostgreSQL. From here on the activity services keep the column
(activities.last_visits)."""

from django.db import migrations

FILL = """
UPDATE customers_customer SET last_visit_at = latest.at
FROM (
    SELECT customer_id, MAX(happened_at) AS at FROM activities_activity
    WHERE kind = 'visit' AND status = 'done' AND customer_id IS NOT NULL
    GROUP BY customer_id
) AS latest
WHERE customers_customer.id = latest.customer_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_indexes"),
        ("customers", "0007_last_visit_and_indexes"),
    ]

    operations = [
        migrations.RunSQL(FILL, reverse_sql="UPDATE customers_customer SET last_visit_at = NULL", elidable=False),
    ]
