"""The team kanban's board index also yields each column's newest cards: (org_unit, pipeline, status, stage,
updated_at, id, amount, weighted_amount, customer) replaces (org_unit, pipeline, status, stage, amount,
weighted_amount, customer).

A column's top 20 cards of a team (deals_selectors.kanban_board) walked sales_opp_stage_idx, which holds every team's
deals of the stage, and fetched each deal from the table to check its team and customer; now they are an index-only
backward scan of the team's part of the stage that stops after the column's cards. The stage totals stay an
index-only scan of the same index (one index instead of a wider second one). Reversible: going back recreates the
previous index.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0006_drop_sensitive_ids_index")]

    operations = [
        migrations.RemoveIndex(model_name="opportunity", name="sales_opp_unit_board_idx"),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=[
                    "org_unit",
                    "pipeline",
                    "status",
                    "stage",
                    "updated_at",
                    "id",
                    "amount",
                    "weighted_amount",
                    "customer",
                ],
                name="sales_opp_unit_board_idx",
            ),
        ),
    ]
