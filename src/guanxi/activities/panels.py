"""The "timeline" panel of the customer 360 view: the first page of the customer's timeline."""

from functools import cache

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from guanxi.activities import timeline
from guanxi.customers.panels import Panel, register

PANEL_LIMIT = 10


def timeline_panel(*, user, customer) -> dict:
    """The customer is already scope-checked by the 360 view (customer_get), so the sources are asked directly."""
    page = timeline.timeline_page(user=user, customer=customer, limit=PANEL_LIMIT)
    return {
        "entries": [entry_data(entry) for entry in page.items],
        "next": page.next,
        "kinds": dict(_kind_labels(translation.get_language(), tuple(source.key for source in timeline.sources()))),
    }


@cache
def _kind_labels(language: str | None, source_keys: tuple[str, ...]) -> dict[str, str]:
    """Every kind's label in `language`, translated once per process, language and set of sources (a source
    registered later gets its own entry): translating them on every 360 view cost more than merging the page."""
    return {kind: str(label) for kind, label in timeline.all_kinds().items()}


def entry_data(entry: timeline.TimelineEntry) -> dict:
    """An entry as JSON-ready data (the panel's API shape, also what the timeline fragment renders)."""
    return {**entry, "at": entry["at"].isoformat()}


register(Panel("timeline", _("Timeline"), timeline_panel, "activities/panels/timeline.html", order=40))
