import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

OFFICE_WEEK = [[["08:30", "17:30"]]] * 5 + [[], []]  # the hours clock.py counted before they became data


def seed_default_hours(apps, schema_editor):
    apps.get_model("service", "BusinessHours").objects.get_or_create(branch=None, defaults={"week": OFFICE_WEEK})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_preferences_saved_filters"),
        ("service", "0006_agent_tools"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
                    ("assigned", "Assigned from the team queue"),
                ],
                max_length=32,
                verbose_name="event",
            ),
        ),
        migrations.CreateModel(
            name="AgentAvailability",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("available", models.BooleanField(default=False, verbose_name="available for assignment")),
                ("skills", models.JSONField(blank=True, default=list, verbose_name="skills (ticket types)")),
                ("version", models.PositiveIntegerField(default=1)),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="service_availability",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "agent availability", "verbose_name_plural": "agent availability"},
        ),
        migrations.CreateModel(
            name="AssignmentRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "strategy",
                    models.CharField(
                        choices=[("round_robin", "Round robin"), ("least_open", "Fewest open tickets")],
                        default="round_robin",
                        max_length=16,
                        verbose_name="strategy",
                    ),
                ),
                ("match_skills", models.BooleanField(default=False, verbose_name="match skills to the ticket type")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("version", models.PositiveIntegerField(default=1)),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "last_assigned",
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
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.orgunit",
                        verbose_name="team",
                    ),
                ),
            ],
            options={"verbose_name": "assignment rule", "verbose_name_plural": "assignment rules", "ordering": ["id"]},
        ),
        migrations.CreateModel(
            name="SmsMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(max_length=32, verbose_name="phone")),
                ("template", models.CharField(blank=True, max_length=64, verbose_name="template")),
                ("content", models.TextField(verbose_name="content")),
                (
                    "purpose",
                    models.CharField(
                        choices=[("return_visit", "Return visit"), ("survey", "Satisfaction survey")],
                        max_length=32,
                        verbose_name="purpose",
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
                        default="queued",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("backend", models.CharField(blank=True, max_length=200)),
                ("provider_id", models.CharField(blank=True, max_length=100)),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
            ],
            options={
                "verbose_name": "text message",
                "verbose_name_plural": "text messages",
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["status", "created_at"], name="sms_status_idx")],
            },
        ),
        migrations.RunPython(seed_default_hours, migrations.RunPython.noop),
    ]
