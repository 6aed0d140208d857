import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models

OFFICE_WEEK = [[["08:30", "17:30"]]] * 5 + [[], []]  # the hours clock.py counted before they became data


def seed_default_hours(apps, schema_editor):
    apps.get_model("service", "BusinessHours").objects.get_or_create(branch=None, defaults={"week": OFFICE_WEEK})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_preferences_saved_filters"),
        ("service", "0006_agent_tools"),
    ]

    operations = [
        migrations.CreateModel(
            name="BusinessHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("week", models.JSONField(default=list, verbose_name="weekly hours")),
                ("version", models.PositiveIntegerField(default=1)),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "branch",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="business_hours",
                        to="core.orgunit",
                        verbose_name="branch",
                    ),
                ),
            ],
            options={
                "verbose_name": "business hours",
                "verbose_name_plural": "business hours",
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.comparison.Coalesce("branch", models.Value(0)),
                        name="one_business_hours_per_branch",
                    )
                ],
            },
        ),
        migrations.RunPython(seed_default_hours, migrations.RunPython.noop),
    ]
