"""SMS delivery in the background: attempts, retry time and the deliverer's claim on each message; the replies."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("service", "0008_analysis_rollups")]

    operations = [
        migrations.AddField(
            model_name="smsmessage",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt"),
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="claim",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="smsmessage",
            name="status",
            field=models.CharField(
                choices=[("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
                default="queued",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddIndex(
            model_name="smsmessage",
            index=models.Index(fields=["status", "next_attempt_at"], name="sms_retry_idx"),
        ),
        migrations.AddIndex(
            model_name="smsmessage",
            index=models.Index(fields=["phone", "created_at"], name="sms_phone_idx"),
        ),
        migrations.CreateModel(
            name="SmsReply",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(max_length=32, verbose_name="phone")),
                ("content", models.TextField(verbose_name="content")),
                ("provider_id", models.CharField(blank=True, max_length=100)),
                ("received_at", models.DateTimeField(verbose_name="received")),
                (
                    "reply_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="replies",
                        to="service.smsmessage",
                        verbose_name="reply to",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("recorded", "Satisfaction recorded"),
                            ("not_a_score", "Not a score"),
                            ("visit_closed", "Return visit already finished"),
                            ("unmatched", "No message to this phone"),
                            ("stored", "Stored"),
                        ],
                        default="stored",
                        max_length=16,
                        verbose_name="outcome",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
            ],
            options={
                "verbose_name": "text message reply",
                "verbose_name_plural": "text message replies",
                "ordering": ["-received_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("provider_id", ""), _negated=True),
                        fields=("provider_id",),
                        name="sms_reply_provider_uniq",
                    )
                ],
            },
        ),
    ]
