"""bench/run.py scenarios of the activities and sales modules (issue 4): the customer timeline and a team's kanban.

`scenarios(raw, user, user_ids, rng, count)` gives (name, acting user, paths) for one user of run.py's --users; each
scenario only appears when its table has data (bench/generate_activities.py, bench/generate_opportunities.py).

- timeline, first page: GET /api/v1/customers/{id}/timeline for random customers the user owns that have activities.
- kanban of a team: GET /api/v1/kanban?pipeline=…&team=… as the team lead of the user's team (stage totals over the
  team's deals, the first cards of every open stage), both pipelines in turn.
"""

import random

TARGETS_MS = {"timeline, first page": 8.0, "kanban of a team": 15.0}  # p50 targets of issue 4


def _has_rows(raw, table: str) -> bool:
    try:
        return bool(raw.all(f"SELECT 1 FROM {table} LIMIT 1"))
    except Exception:  # the module's tables do not exist in this database
        if not raw.sqlite:
            raw.conn.rollback()
        return False


def scenarios(raw, user: str, user_ids: dict, rng: random.Random, count: int) -> list[tuple[str, str, list[str]]]:
    found = []
    if _has_rows(raw, "activities_activity"):
        rows = raw.all(
            "SELECT id FROM customers_customer WHERE owner_id = %s AND NOT sensitive ORDER BY id DESC LIMIT 5000",
            [user_ids[user]],
        )
        ids = [r[0] for r in rng.sample(rows, min(count, len(rows)))]
        found.append(("timeline, first page", user, [f"/api/v1/customers/{i}/timeline" for i in ids]))
    if _has_rows(raw, "sales_opportunity"):
        lead = raw.all(
            """SELECT u.username, p.org_unit_id FROM core_profile p JOIN auth_user u ON u.id = p.user_id
               JOIN auth_user_groups ug ON ug.user_id = u.id JOIN auth_group g ON g.id = ug.group_id
               WHERE g.name = 'team_lead' AND p.org_unit_id =
                     (SELECT org_unit_id FROM core_profile WHERE user_id = %s)
               ORDER BY u.id LIMIT 1""",
            [user_ids[user]],
        )
        if lead:
            username, team = lead[0]
            pipelines = [r[0] for r in raw.all("SELECT id FROM sales_pipeline ORDER BY position, id")]
            paths = [f"/api/v1/kanban?pipeline={p}&team={team}" for p in pipelines]
            found.append(("kanban of a team", username, paths))
    return found
