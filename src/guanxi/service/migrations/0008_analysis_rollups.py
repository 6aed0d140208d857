"""The complaint analysis' rollups (service.models.analysis), filled by `guanxi service_analysis_rebuild`."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("service", "0007_assignment_hours_sms")]

    operations = [
        migrations.CreateModel(
            name="SatisfactionRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("team_id", models.BigIntegerField(default=0)),
                ("month", models.DateField(verbose_name="month")),
                ("visits", models.IntegerField(default=0)),
                ("satisfaction_sum", models.IntegerField(default=0)),
            ],
            options={
                "verbose_name": "satisfaction rollup",
                "verbose_name_plural": "satisfaction rollups",
                "constraints": [
                    models.UniqueConstraint(fields=("day", "team_id", "month"), name="satisfaction_rollup_key")
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketMonthRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("team_id", models.BigIntegerField(default=0)),
                ("ticket_type", models.CharField(max_length=32)),
                ("channel", models.CharField(max_length=16)),
                ("cause_id", models.BigIntegerField(default=0)),
                ("repeat_sub_type_id", models.BigIntegerField(default=0)),
                ("repeat_gap", models.PositiveSmallIntegerField(default=0)),
                ("tickets", models.IntegerField(default=0)),
                ("complaints", models.IntegerField(default=0)),
                ("response_met", models.IntegerField(default=0)),
                ("response_breached", models.IntegerField(default=0)),
                ("resolution_met", models.IntegerField(default=0)),
                ("resolution_breached", models.IntegerField(default=0)),
                ("month", models.DateField(verbose_name="month")),
            ],
            options={
                "verbose_name": "ticket month rollup",
                "verbose_name_plural": "ticket month rollups",
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "month",
                            "team_id",
                            "ticket_type",
                            "channel",
                            "cause_id",
                            "repeat_sub_type_id",
                            "repeat_gap",
                        ),
                        name="ticket_month_rollup_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("team_id", models.BigIntegerField(default=0)),
                ("ticket_type", models.CharField(max_length=32)),
                ("channel", models.CharField(max_length=16)),
                ("cause_id", models.BigIntegerField(default=0)),
                ("repeat_sub_type_id", models.BigIntegerField(default=0)),
                ("repeat_gap", models.PositiveSmallIntegerField(default=0)),
                ("tickets", models.IntegerField(default=0)),
                ("complaints", models.IntegerField(default=0)),
                ("response_met", models.IntegerField(default=0)),
                ("response_breached", models.IntegerField(default=0)),
                ("resolution_met", models.IntegerField(default=0)),
                ("resolution_breached", models.IntegerField(default=0)),
                ("day", models.DateField(verbose_name="day")),
            ],
            options={
                "verbose_name": "ticket rollup",
                "verbose_name_plural": "ticket rollups",
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "day",
                            "team_id",
                            "ticket_type",
                            "channel",
                            "cause_id",
                            "repeat_sub_type_id",
                            "repeat_gap",
                        ),
                        name="ticket_rollup_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketTally",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="service.ticket",
                    ),
                ),
                ("customer_id", models.BigIntegerField(null=True)),
                ("day", models.DateField()),
                ("team_id", models.BigIntegerField(default=0)),
                ("ticket_type", models.CharField(max_length=32)),
                ("channel", models.CharField(max_length=16)),
                ("cause_id", models.BigIntegerField(default=0)),
                ("repeat_sub_type_id", models.BigIntegerField(default=0)),
                ("repeat_gap", models.PositiveSmallIntegerField(default=0)),
                ("complaints", models.SmallIntegerField(default=0)),
                ("response_met", models.SmallIntegerField(default=0)),
                ("response_breached", models.SmallIntegerField(default=0)),
                ("resolution_met", models.SmallIntegerField(default=0)),
                ("resolution_breached", models.SmallIntegerField(default=0)),
            ],
            options={
                "verbose_name": "ticket tally",
                "verbose_name_plural": "ticket tallies",
                "indexes": [models.Index(fields=["day"], name="ticket_tally_day_idx")],
            },
        ),
    ]
