# Notification preferences per user and kind (J4), and the notification centre's list index.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0004_subject_bigrams"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("assignment", "Ticket assigned to me"),
                            ("handover_request", "Hand-over request"),
                            ("handover_answer", "Answer to my hand-over request"),
                            ("sla_warning", "SLA deadline approaching"),
                            ("sla_breach", "SLA breached or escalated"),
                            ("return_visit", "Return-visit result"),
                            ("mention", "Mentioned in a note"),
                            ("activity_reminder", "Activity reminder"),
                            ("ticket_reply", "Reply on a ticket"),
                        ],
                        max_length=32,
                        verbose_name="kind",
                    ),
                ),
                ("in_app", models.BooleanField(default=True, verbose_name="in the app")),
                ("email", models.BooleanField(default=False, verbose_name="by email")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
                "constraints": [
                    models.UniqueConstraint(fields=("user", "kind"), name="one_notification_preference_per_kind")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
        ),
    ]
