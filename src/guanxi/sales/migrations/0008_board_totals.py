"""Stored kanban stage totals (sales_boardtotal), kept by triggers, filled from the existing deals.

The board of a team re-aggregated its ~17,500 open deals on every request (9–13 ms on PostgreSQL of the bench's
1 M customers / 326 k deals); now it sums the team's rows of this table (sales.board_totals, docs/sales.md). The
triggers live in the database so that every write path keeps them, the services and anything else (admin, factories,
SQL loads, the customers app's updates of the sensitive flag, which does not know about sales):

- sales_opportunity AFTER INSERT / UPDATE (when a column of the key or an amount changes) / DELETE: the deal's old
  contribution subtracted, its new one added, by an atomic upsert (`… ON CONFLICT DO UPDATE SET deals = deals + …`);
- customers_customer AFTER UPDATE OF sensitive (when it changes): the customer's open deals move to the other part.

PostgreSQL runs both halves of a deal change as one statement ordered by key (two opposite drags lock the same two rows
in the same order) and reads the customer `FOR SHARE` first (a concurrent flag change waits, or is waited for).
Reversible: going back drops the triggers, the functions and the table.
"""

from django.db import migrations, models

KEY = "org_unit_id, pipeline_id, stage_id, owner_id, sensitive"
COLUMNS = f"{KEY}, deals, amount_fen, weighted_fen"
FEN = "CAST(ROUND({} * 100) AS BIGINT)"
ADD = (
    "deals = {t}deals + excluded.deals, amount_fen = {t}amount_fen + excluded.amount_fen, "
    "weighted_fen = {t}weighted_fen + excluded.weighted_fen"
)
CHANGED = " OR ".join(
    f"OLD.{c} IS DISTINCT FROM NEW.{c}"
    for c in (
        "status",
        "pipeline_id",
        "stage_id",
        "owner_id",
        "org_unit_id",
        "customer_id",
        "amount",
        "weighted_amount",
    )
)
FILL = f"""
INSERT INTO sales_boardtotal ({COLUMNS})
SELECT COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, c.sensitive,
       COUNT(*), SUM({FEN.format("d.amount")}), SUM({FEN.format("d.weighted_amount")})
  FROM sales_opportunity d JOIN customers_customer c ON c.id = d.customer_id
 WHERE d.status = 'open'
 GROUP BY COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, c.sensitive
"""

POSTGRESQL = f"""
CREATE FUNCTION sales_boardtotal_apply(o sales_opportunity, n sales_opportunity) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The customer's flag picks the part: FOR SHARE makes a concurrent flip wait for us, or us for it.
    PERFORM 1 FROM customers_customer
     WHERE id IN (CASE WHEN o.status = 'open' THEN o.customer_id END,
                  CASE WHEN n.status = 'open' THEN n.customer_id END)
     ORDER BY id FOR SHARE;
    INSERT INTO sales_boardtotal AS t ({COLUMNS})
    SELECT v.org_unit_id, v.pipeline_id, v.stage_id, v.owner_id, c.sensitive,
           SUM(v.deals), SUM(v.amount_fen), SUM(v.weighted_fen)
      FROM (VALUES (COALESCE(o.org_unit_id, 0), o.pipeline_id, o.stage_id, o.owner_id, o.customer_id, o.status,
                    -1, -{FEN.format("o.amount")}, -{FEN.format("o.weighted_amount")}),
                   (COALESCE(n.org_unit_id, 0), n.pipeline_id, n.stage_id, n.owner_id, n.customer_id, n.status,
                    1, {FEN.format("n.amount")}, {FEN.format("n.weighted_amount")}))
           AS v (org_unit_id, pipeline_id, stage_id, owner_id, customer_id, status, deals, amount_fen, weighted_fen)
      JOIN customers_customer c ON c.id = v.customer_id
     WHERE v.status = 'open'
     GROUP BY 1, 2, 3, 4, 5
    HAVING SUM(v.deals) <> 0 OR SUM(v.amount_fen) <> 0 OR SUM(v.weighted_fen) <> 0
     ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD.format(t="t.")};
END $$;

CREATE FUNCTION sales_boardtotal_deal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sales_boardtotal_apply(NULL::sales_opportunity, NEW);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM sales_boardtotal_apply(OLD, NULL::sales_opportunity);
    ELSE
        PERFORM sales_boardtotal_apply(OLD, NEW);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION sales_boardtotal_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- We hold this customer's row lock: deal writes that counted under the old flag have committed (seen here).
    INSERT INTO sales_boardtotal AS t ({COLUMNS})
    SELECT COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, v.sensitive,
           SUM(v.sign), SUM(v.sign * {FEN.format("d.amount")}), SUM(v.sign * {FEN.format("d.weighted_amount")})
      FROM sales_opportunity d CROSS JOIN (VALUES (OLD.sensitive, -1), (NEW.sensitive, 1)) AS v (sensitive, sign)
     WHERE d.customer_id = NEW.id AND d.status = 'open'
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD.format(t="t.")};
    RETURN NULL;
END $$;

CREATE TRIGGER sales_boardtotal_ins AFTER INSERT ON sales_opportunity
    FOR EACH ROW WHEN (NEW.status = 'open') EXECUTE FUNCTION sales_boardtotal_deal();
CREATE TRIGGER sales_boardtotal_upd AFTER UPDATE ON sales_opportunity
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION sales_boardtotal_deal();
CREATE TRIGGER sales_boardtotal_del AFTER DELETE ON sales_opportunity
    FOR EACH ROW WHEN (OLD.status = 'open') EXECUTE FUNCTION sales_boardtotal_deal();
CREATE TRIGGER sales_boardtotal_sensitive AFTER UPDATE OF sensitive ON customers_customer
    FOR EACH ROW WHEN (OLD.sensitive IS DISTINCT FROM NEW.sensitive) EXECUTE FUNCTION sales_boardtotal_customer();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS sales_boardtotal_sensitive ON customers_customer;
DROP TRIGGER IF EXISTS sales_boardtotal_ins ON sales_opportunity;
DROP TRIGGER IF EXISTS sales_boardtotal_upd ON sales_opportunity;
DROP TRIGGER IF EXISTS sales_boardtotal_del ON sales_opportunity;
DROP FUNCTION IF EXISTS sales_boardtotal_customer();
DROP FUNCTION IF EXISTS sales_boardtotal_deal();
DROP FUNCTION IF EXISTS sales_boardtotal_apply(sales_opportunity, sales_opportunity);
"""


def _sqlite_add(row: str, sign: str) -> str:
    """One upsert of a deal row's (OLD or NEW) contribution with `sign`, when it is open (SQLite has one writer)."""
    return f"""
    INSERT INTO sales_boardtotal ({COLUMNS})
    SELECT COALESCE({row}.org_unit_id, 0), {row}.pipeline_id, {row}.stage_id, {row}.owner_id, c.sensitive,
           {sign}1, {sign}{FEN.format(row + ".amount")}, {sign}{FEN.format(row + ".weighted_amount")}
      FROM customers_customer c WHERE c.id = {row}.customer_id AND {row}.status = 'open'
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD.format(t="")};"""


def _sqlite_move(flag: str, sign: str) -> str:
    return f"""
    INSERT INTO sales_boardtotal ({COLUMNS})
    SELECT COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, {flag},
           {sign}COUNT(*), {sign}SUM({FEN.format("d.amount")}), {sign}SUM({FEN.format("d.weighted_amount")})
      FROM sales_opportunity d WHERE d.customer_id = NEW.id AND d.status = 'open'
     GROUP BY 1, 2, 3, 4
        ON CONFLICT ({KEY}) DO UPDATE SET {ADD.format(t="")};"""


SQLITE = [
    f"""CREATE TRIGGER sales_boardtotal_ins AFTER INSERT ON sales_opportunity WHEN NEW.status = 'open'
    BEGIN {_sqlite_add("NEW", "")} END""",
    f"""CREATE TRIGGER sales_boardtotal_upd AFTER UPDATE ON sales_opportunity
    WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
    BEGIN {_sqlite_add("OLD", "-")} {_sqlite_add("NEW", "")} END""",
    f"""CREATE TRIGGER sales_boardtotal_del AFTER DELETE ON sales_opportunity WHEN OLD.status = 'open'
    BEGIN {_sqlite_add("OLD", "-")} END""",
    f"""CREATE TRIGGER sales_boardtotal_sensitive AFTER UPDATE OF sensitive ON customers_customer
    WHEN OLD.sensitive IS NOT NEW.sensitive
    BEGIN {_sqlite_move("OLD.sensitive", "-")} {_sqlite_move("NEW.sensitive", "")} END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("sales_boardtotal_ins", "sales_boardtotal_upd", "sales_boardtotal_del", "sales_boardtotal_sensitive")
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRESQL] if vendor == "postgresql" else SQLITE if vendor == "sqlite" else None
    if statements is None:
        raise NotImplementedError(f"board totals triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)
    schema_editor.execute(FILL, params=None)


def uninstall(apps, schema_editor):
    statements = [POSTGRESQL_DROP] if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0007_kanban_cards_index"),
        ("customers", "0007_last_visit_and_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="BoardTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("org_unit_id", models.BigIntegerField(verbose_name="team")),
                ("pipeline_id", models.BigIntegerField(verbose_name="pipeline")),
                ("stage_id", models.BigIntegerField(verbose_name="stage")),
                ("owner_id", models.BigIntegerField(verbose_name="owner")),
                ("sensitive", models.BooleanField(verbose_name="sensitive")),
                ("deals", models.BigIntegerField(default=0, verbose_name="deals")),
                ("amount_fen", models.BigIntegerField(default=0, verbose_name="amount (fen)")),
                ("weighted_fen", models.BigIntegerField(default=0, verbose_name="weighted amount (fen)")),
            ],
            options={
                "verbose_name": "kanban stage total",
                "verbose_name_plural": "kanban stage totals",
                "indexes": [
                    models.Index(fields=["owner_id", "pipeline_id"], name="sales_boardtotal_owner_idx"),
                    models.Index(fields=["pipeline_id", "stage_id"], name="sales_boardtotal_pipe_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("org_unit_id", "pipeline_id", "stage_id", "owner_id", "sensitive"),
                        name="sales_boardtotal_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
