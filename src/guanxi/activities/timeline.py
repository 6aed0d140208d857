"""The customer timeline: one chronological stream per customer, newest first, fed by registered sources.

Activities are the built-in source; other apps add theirs (deals, tickets, bills …) in their AppConfig.ready():

    from guanxi.activities import timeline

    def deal_entries(*, user, customer, before, since, until, kinds, limit):
        deals = Opportunity.objects.filter(customer=customer).filter(timeline.older_than(before, "deals", "created_at"))
        if since: deals = deals.filter(created_at__gte=since)
        if until: deals = deals.filter(created_at__lt=until)
        for deal in deals.order_by("-created_at", "-id")[:limit]:
            yield timeline.entry(at=deal.created_at, source="deals", id=deal.pk, kind="deal", …)

    timeline.register(timeline.TimelineSource("deals", {"deal": _("Deal")}, deal_entries))

A source is called only when the customer is visible to the user (the timeline checks that first), and only when the
kind filter asks for one of its kinds. It returns at most `limit` entries in the timeline's order (at, source, id
descending), strictly after the `before` position (older_than() builds that condition). The timeline merges the
sources and cuts the page; its cursor is the last entry's (at, source, id), so pages are stable under inserts.

Entries are plain dicts (TimelineEntry), built from values() rows: the API validates them as they are, the pages
render them, and a page of model instances or per-entry objects cost more Python than the rest of the request.
"""

import base64
import heapq
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypedDict

from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise

from guanxi.core.labels import choice_labels
from guanxi.core.masking import phone_for
from guanxi.core.names import full_name
from guanxi.core.pagination import BadCursor, Page
from guanxi.customers.selectors import customer_queryset

ACTIVITIES = "activities"


class TimelineEntry(TypedDict):
    at: datetime
    source: str  # the source's key
    id: int  # unique within the source
    kind: str  # one of the source's kinds (the kind filter matches it)
    kind_label: str
    title: str
    summary: str
    status: str
    actor: str  # who did it (owner, author)
    url: str
    data: dict[str, Any]  # source-specific details, JSON-ready


def entry(
    *,
    at: datetime,
    source: str,
    id: int,  # noqa: A002 - the entry's field name
    kind: str,
    kind_label: str,
    title: str,
    summary: str = "",
    status: str = "",
    actor: str = "",
    url: str = "",
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """A timeline entry with the optional fields defaulted (for sources that build a few entries)."""
    return {
        "at": at,
        "source": source,
        "id": id,
        "kind": kind,
        "kind_label": kind_label,
        "title": title,
        "summary": summary,
        "status": status,
        "actor": actor,
        "url": url,
        "data": data if data is not None else {},
    }


@dataclass(frozen=True)
class Position:
    """Where a page ended: the next page holds the entries after it in (at, source, id) descending order."""

    at: datetime
    source: str
    id: int


@dataclass(frozen=True)
class TimelineSource:
    key: str
    kinds: Mapping[str, str | Promise]  # kind → label
    entries: Callable[..., Iterable[TimelineEntry]]
    # entries(user=, customer=, before: Position | None, since: datetime | None, until: datetime | None,
    #         kinds: set[str] | None, limit: int) -> at most `limit` entries, newest first


_sources: dict[str, TimelineSource] = {}


def register(source: TimelineSource) -> None:
    _sources[source.key] = source


def sources() -> list[TimelineSource]:
    return sorted(_sources.values(), key=lambda source: source.key)


def all_kinds() -> dict[str, str | Promise]:
    """Every kind any source produces, for the kind filter."""
    return {kind: label for source in sources() for kind, label in source.kinds.items()}


def older_than(position: Position | None, source_key: str, at_field: str, id_field: str = "id") -> Q:
    """The condition on a source's rows for the entries after `position` (all rows when it is None)."""
    if position is None:
        return Q()
    if source_key < position.source:
        return Q(**{f"{at_field}__lte": position.at})
    if source_key > position.source:
        return Q(**{f"{at_field}__lt": position.at})
    # The leading range lets an (…, at DESC, id DESC) index start at the cursor.
    return Q(**{f"{at_field}__lte": position.at}) & (
        Q(**{f"{at_field}__lt": position.at}) | Q(**{id_field + "__lt": position.id})
    )


def customer_timeline(
    *,
    user,
    customer_id: int,
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """One page of the customer's timeline; 404 when the customer is absent or outside the user's scope."""
    customer = (
        customer_queryset(user=user).only("id", "name", "owner_id", "org_unit_id", "sensitive").filter(pk=customer_id)
    ).first()
    if customer is None:
        raise Http404
    return timeline_page(
        user=user, customer=customer, kinds=kinds, since=since, until=until, cursor=cursor, limit=limit
    )


def timeline_page(*, user, customer, kinds=None, since=None, until=None, cursor=None, limit=20) -> Page:
    """The page for a customer already known to be visible (the 360 panel has it loaded)."""
    wanted = set(kinds) if kinds else None
    before = decode_cursor(cursor) if cursor else None
    streams = []
    for source in sources():
        if wanted is not None and not wanted & set(source.kinds):
            continue
        entries = source.entries(
            user=user, customer=customer, before=before, since=since, until=until, kinds=wanted, limit=limit + 1
        )
        streams.append(itertools.islice(entries, limit + 1))
    merged = list(itertools.islice(heapq.merge(*streams, key=_sort_key, reverse=True), limit + 1))
    items = merged[:limit]
    next_cursor = encode_cursor(items[-1]) if len(merged) > limit else None
    return Page(items=items, next=next_cursor)


def _sort_key(item: TimelineEntry) -> tuple:
    return (item["at"], item["source"], item["id"])


def encode_cursor(item: TimelineEntry) -> str:
    raw = json.dumps([item["at"].isoformat(), item["source"], item["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, source, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = parse_datetime(at) if isinstance(at, str) else None
        valid = (
            moment is not None
            and timezone.is_aware(moment)
            and isinstance(source, str)
            and isinstance(last_id, int)
            and not isinstance(last_id, bool)
            and -(2**63) <= last_id < 2**63
        )
    except (ValueError, TypeError) as exc:
        raise BadCursor("invalid cursor") from exc
    if not valid:
        raise BadCursor("invalid cursor")
    return Position(at=moment, source=source, id=last_id)


# --- the built-in source: activities -------------------------------------------------------------------------------


def activity_entries(*, user, customer, before, since, until, kinds, limit) -> list[TimelineEntry]:
    """The customer's activities: one index range scan on activity_timeline_idx (customer, happened_at, id).

    Rows are read as tuples of the columns shown (no model instances), labels are looked up once per page and each
    entry is a plain dict: this is the hot path of the 360 view and of GET /customers/{id}/timeline.
    """
    from guanxi.activities.models import Activity

    activities = _entry_rows().filter(customer_id=customer.pk)
    if before is not None:
        activities = activities.filter(older_than(before, ACTIVITIES, "happened_at"))
    if kinds is not None:
        activities = activities.filter(kind__in=[kind for kind in kinds if kind in Activity.Kind.values])
    if since is not None:
        activities = activities.filter(happened_at__gte=since)
    if until is not None:
        activities = activities.filter(happened_at__lt=until)
    kind_labels, result_labels = choice_labels(Activity.Kind), choice_labels(Activity.CallResult)
    detail_url = reverse("activities:detail", args=[_URL_PLACEHOLDER])
    entries = []
    for row in activities[:limit]:
        (
            pk,
            kind,
            subject,
            status,
            happened_at,
            outcome,
            notes,
            next_step,
            phone,
            result,
            duration,
            first,
            last,
            username,
        ) = row
        is_call = kind in CALL_DIRECTIONS
        data = {"direction": CALL_DIRECTIONS.get(kind, ""), "outcome": outcome, "next_step": next_step}
        if is_call:
            data.update(
                phone_number=phone_for(user, phone),
                call_result=result,
                call_result_label=result_labels.get(result, ""),
                duration_seconds=duration,
            )
        entries.append(
            {
                "at": happened_at,
                "source": ACTIVITIES,
                "id": pk,
                "kind": kind,
                "kind_label": kind_labels.get(kind, kind),
                "title": subject,
                "summary": outcome or notes[:200],
                "status": status,
                "actor": full_name(username, first, last),
                "url": detail_url.replace(str(_URL_PLACEHOLDER), str(pk)),
                "data": data,
            }
        )
    return entries


ENTRY_COLUMNS = (
    "id",
    "kind",
    "subject",
    "status",
    "happened_at",
    "outcome",
    "notes",
    "next_step",
    "phone_number",
    "call_result",
    "duration_seconds",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)
CALL_DIRECTIONS = {"inbound_call": "inbound", "outbound_call": "outbound"}
_URL_PLACEHOLDER = 987654321987


@cache
def _entry_rows() -> QuerySet:
    """The entries' rows in the timeline's order, built once (callers chain on it; filter and slice clone it):
    resolving the columns and the owner's join was a third of the source's Python on every 360 view."""
    from guanxi.activities.models import Activity

    return Activity.objects.order_by("-happened_at", "-id").values_list(*ENTRY_COLUMNS)


def register_activities() -> None:
    from guanxi.activities.models import Activity

    register(TimelineSource(ACTIVITIES, dict(Activity.Kind.choices), activity_entries))
