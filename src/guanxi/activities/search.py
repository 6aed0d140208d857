"""Search kind "activities" (registered with core.search): activities whose subject contains every word, scoped.

Subjects carry the same bigram index as customer names (migration 0004, core.textsearch): the index finds the
candidates, the scope and a substring test decide, and the search stops at `limit` hits, shown newest first.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.activities.selectors import activity_scope_parts
from guanxi.core import search
from guanxi.core.textsearch import substring_matches


def search_activities(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    found = {}
    for part in activity_scope_parts(user=user):  # one search per part of the scope, each from an index
        for activity in substring_matches(
            part.select_related("customer").order_by(), "subject", list(query.terms), limit
        ):
            found[activity.pk] = activity
    hits = []
    newest = sorted(found.values(), key=lambda row: (row.happened_at, row.pk), reverse=True)[:limit]
    for activity in newest:
        notes = [str(activity.get_kind_display()), timezone.localtime(activity.happened_at).strftime("%Y-%m-%d")]
        if activity.customer_id:
            notes.append(activity.customer.name)
        hits.append(
            search.SearchHit(
                id=activity.pk,
                title=activity.subject,
                subtitle=" · ".join(notes),
                url=reverse("activities:detail", args=[activity.pk]),
                match="subject",
            )
        )
    return hits


search.register(
    search.SearchKind("activities", pgettext_lazy("search kind", "Activities"), search_activities, order=30)
)
