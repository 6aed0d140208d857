# Return visits (回访) and satisfaction surveys (满意度调查): see docs/service.md "Return visits and satisfaction".
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Hours after closing until the return visit is due, per ticket type (emergency repair sooner); retries and attempts.
RULES = {
    "consultation": (24, 4, 3),
    "complaint": (24, 4, 3),
    "suggestion": (48, 8, 2),
    "technical_support": (24, 4, 3),
    "fault_report": (12, 4, 3),
    "emergency_repair": (4, 2, 3),
}


def seed_rules(apps, schema_editor):
    Rule = apps.get_model("service", "ReturnVisitRule")
    Rule.objects.bulk_create(
        [
            Rule(ticket_type=kind, delay_hours=delay, retry_hours=retry, max_attempts=attempts, channel="phone")
            for kind, (delay, retry, attempts) in RULES.items()
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_preferences_saved_filters"),
        ("customers", "0005_list_indexes"),
        ("service", "0003_complaints_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReturnVisit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("closed_at", models.DateTimeField(verbose_name="ticket closed at")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("scheduled", "Scheduled"),
                            ("due", "Due"),
                            ("completed", "Completed"),
                            ("unreachable", "Unreachable"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="scheduled",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("phone", "Phone"), ("sms", "Text message"), ("wechat", "WeChat"), ("email", "Email")],
                        default="phone",
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("due_at", models.DateTimeField(verbose_name="due at")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("max_attempts", models.PositiveSmallIntegerField(default=3, verbose_name="attempts at most")),
                ("satisfaction", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="satisfaction")),
                ("comment", models.TextField(blank=True, verbose_name="comment")),
                ("completed_at", models.DateTimeField(blank=True, null=True, verbose_name="completed at")),
                ("reopened", models.BooleanField(default=False, verbose_name="reopened the ticket")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "assignee",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="return_visits",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="return visit agent",
                    ),
                ),
                (
                    "completed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
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
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="return_visits",
                        to="service.ticket",
                        verbose_name="ticket",
                    ),
                ),
            ],
            options={
                "verbose_name": "return visit",
                "verbose_name_plural": "return visits",
            },
        ),
        migrations.CreateModel(
            name="ReturnVisitAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(verbose_name="at")),
                (
                    "channel",
                    models.CharField(
                        choices=[("phone", "Phone"), ("sms", "Text message"), ("wechat", "WeChat"), ("email", "Email")],
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("reached", models.BooleanField(verbose_name="reached")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "visit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attempt_log",
                        to="service.returnvisit",
                    ),
                ),
            ],
            options={
                "verbose_name": "return visit attempt",
                "verbose_name_plural": "return visit attempts",
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ReturnVisitRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "ticket_type",
                    models.CharField(
                        choices=[
                            ("consultation", "Consultation"),
                            ("complaint", "Complaint"),
                            ("suggestion", "Suggestion"),
                            ("technical_support", "Technical support"),
                            ("fault_report", "Fault report"),
                            ("emergency_repair", "Emergency repair"),
                        ],
                        max_length=32,
                        unique=True,
                        verbose_name="type",
                    ),
                ),
                ("delay_hours", models.PositiveIntegerField(default=24, verbose_name="visit after (hours)")),
                ("retry_hours", models.PositiveIntegerField(default=4, verbose_name="retry after (hours)")),
                ("max_attempts", models.PositiveSmallIntegerField(default=3, verbose_name="attempts at most")),
                (
                    "channel",
                    models.CharField(
                        choices=[("phone", "Phone"), ("sms", "Text message"), ("wechat", "WeChat"), ("email", "Email")],
                        default="phone",
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
            ],
            options={
                "verbose_name": "return visit rule",
                "verbose_name_plural": "return visit rules",
                "ordering": ["ticket_type"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("max_attempts__gte", 1)), name="return_visit_rule_attempts"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Survey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "channel",
                    models.CharField(
                        choices=[("phone", "Phone"), ("sms", "Text message"), ("wechat", "WeChat"), ("email", "Email")],
                        default="phone",
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                ("segment", models.JSONField(blank=True, default=dict, verbose_name="customer segment")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("sent", "Sent"), ("closed", "Closed")],
                        default="draft",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent at")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
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
                "verbose_name": "satisfaction survey",
                "verbose_name_plural": "satisfaction surveys",
            },
        ),
        migrations.CreateModel(
            name="SurveyInvitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "channel",
                    models.CharField(
                        choices=[("phone", "Phone"), ("sms", "Text message"), ("wechat", "WeChat"), ("email", "Email")],
                        max_length=16,
                        verbose_name="channel",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("invited", "Invited"), ("answered", "Answered")],
                        default="invited",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("invited_at", models.DateTimeField(verbose_name="invited at")),
                ("answered_at", models.DateTimeField(blank=True, null=True, verbose_name="answered at")),
                (
                    "recommend",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="would recommend (0–10)"),
                ),
                ("satisfaction", models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="satisfaction")),
                ("comment", models.TextField(blank=True, verbose_name="comment")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="survey_invitations",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "survey",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="invitations", to="service.survey"
                    ),
                ),
            ],
            options={
                "verbose_name": "survey invitation",
                "verbose_name_plural": "survey invitations",
            },
        ),
        migrations.AddIndex(
            model_name="returnvisit",
            index=models.Index(
                condition=models.Q(("status__in", ["scheduled", "due"])),
                fields=["due_at", "id"],
                name="return_visit_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="returnvisit",
            index=models.Index(fields=["ticket", "completed_at"], name="return_visit_ticket_idx"),
        ),
        migrations.AddConstraint(
            model_name="returnvisit",
            constraint=models.UniqueConstraint(fields=("ticket", "closed_at"), name="one_return_visit_per_closure"),
        ),
        migrations.AddConstraint(
            model_name="returnvisit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("satisfaction__isnull", True),
                    models.Q(("satisfaction__gte", 1), ("satisfaction__lte", 5)),
                    _connector="OR",
                ),
                name="return_visit_satisfaction_1_5",
            ),
        ),
        migrations.AddIndex(
            model_name="surveyinvitation",
            index=models.Index(fields=["customer", "answered_at"], name="survey_customer_answer_idx"),
        ),
        migrations.AddConstraint(
            model_name="surveyinvitation",
            constraint=models.UniqueConstraint(fields=("survey", "customer"), name="one_invitation_per_customer"),
        ),
        migrations.AddConstraint(
            model_name="surveyinvitation",
            constraint=models.CheckConstraint(
                condition=models.Q(("recommend__isnull", True), ("recommend__lte", 10), _connector="OR"),
                name="survey_recommend_0_10",
            ),
        ),
        migrations.AddConstraint(
            model_name="surveyinvitation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("satisfaction__isnull", True),
                    models.Q(("satisfaction__gte", 1), ("satisfaction__lte", 5)),
                    _connector="OR",
                ),
                name="survey_satisfaction_1_5",
            ),
        ),
        migrations.RunPython(seed_rules, migrations.RunPython.noop),
    ]
