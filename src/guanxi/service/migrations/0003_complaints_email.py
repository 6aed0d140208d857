# Ticket correspondence (messages, attachments) and complaint handling: see docs/service.md
# "Correspondence and email intake".
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import guanxi.service.models.correspondence


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0002_seed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "direction",
                    models.CharField(
                        choices=[
                            ("inbound", "From the customer"),
                            ("outbound", "To the customer"),
                            ("internal", "Internal comment"),
                        ],
                        max_length=16,
                        verbose_name="direction",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("phone", "Phone"),
                            ("email", "Email"),
                            ("sms", "SMS"),
                            ("wechat", "WeChat"),
                            ("letter", "Letter"),
                            ("in_person", "In person"),
                            ("note", "Note"),
                        ],
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="time")),
                ("sender", models.CharField(blank=True, max_length=300, verbose_name="sender")),
                ("recipient", models.CharField(blank=True, max_length=300, verbose_name="recipient")),
                ("subject", models.CharField(blank=True, max_length=300, verbose_name="subject")),
                ("content", models.TextField(verbose_name="content")),
                ("is_reply", models.BooleanField(default=False, verbose_name="formal reply")),
                ("message_id", models.CharField(blank=True, max_length=300, verbose_name="Message-ID")),
                ("in_reply_to", models.CharField(blank=True, max_length=300)),
                (
                    "delivery",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Not sent by the system"),
                            ("pending", "Being sent"),
                            ("sent", "Sent"),
                            ("failed", "Sending failed"),
                        ],
                        default="",
                        max_length=16,
                        verbose_name="delivery",
                    ),
                ),
                ("delivery_error", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded")),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "refers_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="service.ticket",
                        verbose_name="refers to",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="service.ticket",
                        verbose_name="ticket",
                    ),
                ),
            ],
            options={
                "verbose_name": "ticket message",
                "verbose_name_plural": "ticket messages",
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="MessageAttachment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "file",
                    models.FileField(
                        max_length=300, upload_to=guanxi.service.models.correspondence.message_attachment_path
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="file name")),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("size", models.PositiveBigIntegerField(default=0)),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachments",
                        to="service.ticketmessage",
                    ),
                ),
            ],
            options={
                "verbose_name": "message attachment",
                "verbose_name_plural": "message attachments",
                "ordering": ["id"],
            },
        ),
        migrations.CreateModel(
            name="ComplaintHandling",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True, verbose_name="acknowledged")),
                ("replied_at", models.DateTimeField(blank=True, null=True, verbose_name="replied")),
                (
                    "reply_on_time",
                    models.BooleanField(blank=True, null=True, verbose_name="replied before the deadline"),
                ),
                (
                    "acceptance",
                    models.CharField(
                        blank=True,
                        choices=[("", "Not asked yet"), ("accepted", "Accepted"), ("not_accepted", "Not accepted")],
                        default="",
                        max_length=16,
                        verbose_name="customer's acceptance",
                    ),
                ),
                ("acceptance_reason", models.TextField(blank=True, verbose_name="reason")),
                ("acceptance_at", models.DateTimeField(blank=True, null=True, verbose_name="answered")),
                ("not_accepted_count", models.PositiveSmallIntegerField(default=0, verbose_name="times not accepted")),
                (
                    "acceptance_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="handling", to="service.ticket"
                    ),
                ),
                (
                    "reply",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="service.ticketmessage",
                        verbose_name="reply",
                    ),
                ),
            ],
            options={
                "verbose_name": "complaint handling",
                "verbose_name_plural": "complaint handling",
            },
        ),
        migrations.AddIndex(
            model_name="ticketmessage",
            index=models.Index(fields=["ticket", "at", "id"], name="ticket_message_thread_idx"),
        ),
        migrations.AddConstraint(
            model_name="ticketmessage",
            constraint=models.UniqueConstraint(
                condition=models.Q(("message_id", ""), _negated=True),
                fields=("message_id",),
                name="ticket_message_mid_uniq",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticketmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(("direction", "outbound"), ("is_reply", False), _connector="OR"),
                name="ticket_message_reply_is_outbound",
            ),
        ),
    ]
