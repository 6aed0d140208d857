"""Search kind "activities" (registered with core.search): activities whose subject contains every word, scoped.

The scan is bounded by the user's scope (activity_queryset) and stops at `limit` hits, newest first among the rows it
reads; subjects are not bigram-indexed (see docs/activities.md), so a wide scope with a rare word reads many rows.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from guanxi.activities.selectors import activity_queryset
from guanxi.core import search


def search_activities(*, user, q: str, limit: int) -> list[search.SearchHit]:
    query = search.parse(q)
    activities = activity_queryset(user=user).select_related("customer")
    for term in query.terms:
        activities = activities.filter(subject__icontains=term)
    hits = []
    for activity in activities.order_by("-happened_at", "-id")[:limit]:
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
