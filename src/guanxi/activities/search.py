"""Search kind "activities" (registered with core.search): activities whose subject contains every word, scoped.

Subjects carry the same bigram index as customer names (migration 0004, core.textsearch): the index finds the
candidates, the scope and a substring test decide, and the search stops at `limit` hits, shown newest first.
Rows are values() dicts of the few columns a hit shows: model instances with their customer, and compiling all of
both models' columns once per part of the scope, were most of this kind's Python time.
"""

from django.db.models import F
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.activities.models import Activity
from guanxi.activities.selectors import activity_scope_parts
from guanxi.core import search
from guanxi.core.scope import record_scope
from guanxi.core.search_statements import scoped_matches_in_parts

HIT_FIELDS = ("id", "subject", "kind", "happened_at", "customer_id")
KIND_LABELS = dict(Activity.Kind.choices)


def search_activities(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    # One search per part of the scope, each from an index; a rare word's candidates are read once for all parts.
    # The parts' SQL depends only on the user's scope: compiled once per scope (core.search_statements).
    found = {
        row["id"]: row
        for row in scoped_matches_in_parts(
            key=("activities", record_scope(user)),
            parts=lambda: [
                part.order_by().values(*HIT_FIELDS, customer_name=F("customer__name"))
                for part in activity_scope_parts(user=user)
            ],
            model=Activity,
            column="subject",
            terms=list(query.terms),
            limit=limit,
        )
    }
    newest = sorted(found.values(), key=lambda row: (row["happened_at"], row["id"]), reverse=True)[:limit]
    url = search.detail_urls("activities:detail")
    hits = []
    for activity in newest:
        notes = [
            str(KIND_LABELS.get(activity["kind"], activity["kind"])),
            timezone.localtime(activity["happened_at"]).strftime("%Y-%m-%d"),
        ]
        if activity["customer_id"]:
            notes.append(activity["customer_name"])
        hits.append(
            search.SearchHit(
                id=activity["id"],
                title=activity["subject"],
                subtitle=" · ".join(notes),
                url=url(activity["id"]),
                match="subject",
            )
        )
    return hits


search.register(
    search.SearchKind("activities", pgettext_lazy("search kind", "Activities"), search_activities, order=30)
)
