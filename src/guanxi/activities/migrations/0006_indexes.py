"""Indexes for the overdue-visit list and the visit plan: done visits only (partial), so a customer's last visit is
one index-only probe and a month's visits per owner one range (docs/activities.md, "Figures")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("activities", "0005_notification_preferences")]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("kind", "visit"), ("status", "done")),
                fields=["customer", "-happened_at"],
                name="activity_done_visit_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("kind", "visit"), ("status", "done")),
                fields=["owner", "happened_at"],
                name="activity_owner_visit_idx",
            ),
        ),
    ]
