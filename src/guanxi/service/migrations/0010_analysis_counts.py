"""Counts by priority and customer grade, and reopens, in the analysis rollups (issue 5, F4); the tickets' creation
time indexed for the rebuild's day units.

Existing tallies and rollup rows get the defaults (normal, general, 0 reopens) — consistent with each other, so the
services' incremental upkeep stays exact, but the new breakdowns are right only after
`guanxi service_analysis_rebuild` (it works day by day and does not block ticket writes for long)."""

from django.db import migrations, models

KEY_REST = ("team_id", "ticket_type", "channel", "priority", "grade", "cause_id", "repeat_sub_type_id", "repeat_gap")


def _fields(model_name: str) -> list:
    return [
        migrations.AddField(
            model_name=model_name, name="priority", field=models.CharField(default="normal", max_length=16)
        ),
        migrations.AddField(
            model_name=model_name, name="grade", field=models.CharField(default="general", max_length=16)
        ),
        migrations.AddField(model_name=model_name, name="reopens", field=models.IntegerField(default=0)),
    ]


class Migration(migrations.Migration):
    dependencies = [("service", "0009_sms_delivery")]

    operations = [
        # The unique keys gain the two columns: dropped first, re-created once the columns exist.
        migrations.RemoveConstraint(model_name="ticketmonthrollup", name="ticket_month_rollup_key"),
        migrations.RemoveConstraint(model_name="ticketrollup", name="ticket_rollup_key"),
        *_fields("ticketrollup"),
        *_fields("ticketmonthrollup"),
        *_fields("tickettally"),
        migrations.AddConstraint(
            model_name="ticketmonthrollup",
            constraint=models.UniqueConstraint(fields=("month", *KEY_REST), name="ticket_month_rollup_key"),
        ),
        migrations.AddConstraint(
            model_name="ticketrollup",
            constraint=models.UniqueConstraint(fields=("day", *KEY_REST), name="ticket_rollup_key"),
        ),
        # The rebuild works one local day per transaction: it finds the day's tickets by creation time.
        migrations.AddIndex(model_name="ticket", index=models.Index(fields=["created_at"], name="ticket_created_idx")),
    ]
