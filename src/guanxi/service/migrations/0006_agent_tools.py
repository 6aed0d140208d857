# Reply templates, ticket merge (merged_into / merged_at, two event kinds, a partial index), one redundant index less.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_preferences_saved_filters"),
        ("customers", "0005_list_indexes"),
        ("service", "0005_knowledge"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="merged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="merged"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_from",
                to="service.ticket",
                verbose_name="merged into",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="ticket_merged_into_idx",
            ),
        ),
        # The customer FK's own index duplicated ticket_customer_idx (customer_id, created_at, id): one index fewer
        # to maintain on every insert and for the planner to consider on every ticket query.
        migrations.AlterField(
            model_name="ticket",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tickets",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("accepted", "Accepted"),
                    ("started", "Work started"),
                    ("waiting", "Waiting for customer"),
                    ("resolved", "Resolved"),
                    ("closed", "Closed"),
                    ("reopened", "Reopened"),
                    ("updated", "Updated"),
                    ("handover_requested", "Hand-over requested"),
                    ("handover_accepted", "Hand-over accepted"),
                    ("handover_declined", "Hand-over declined"),
                    ("handover_expired", "Hand-over expired"),
                    ("sla_warning", "SLA warning"),
                    ("sla_breach", "SLA breached"),
                    ("escalated", "Escalated"),
                    ("merged", "Merged into another ticket"),
                    ("merged_from", "Duplicate merged in"),
                ],
                max_length=32,
                verbose_name="event",
            ),
        ),
        migrations.CreateModel(
            name="ReplyTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("body", models.TextField(verbose_name="text")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.orgunit",
                        verbose_name="team",
                    ),
                ),
            ],
            options={
                "verbose_name": "reply template",
                "verbose_name_plural": "reply templates",
                "ordering": ["name", "id"],
                "indexes": [models.Index(fields=["team", "name"], name="reply_template_team_idx")],
            },
        ),
    ]
