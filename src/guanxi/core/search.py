"""The global search (J8): one box, results grouped by kind. Apps register their kinds; core knows none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    subtitle: str
    url: str


@dataclass(frozen=True)
class SearchKind:
    key: str  # "customers", "contacts" … (the key in the API answer)
    label: str | Promise
    search: Callable[..., list[SearchHit]]  # search(user=…, q=…, limit=…) — must apply record scope and masking
    order: int = 100


_kinds: dict[str, SearchKind] = {}

MIN_QUERY_LENGTH = 2


def register(kind: SearchKind) -> None:
    _kinds[kind.key] = kind


def kinds() -> list[SearchKind]:
    return sorted(_kinds.values(), key=lambda kind: (kind.order, kind.key))


def search_all(*, user, q: str, limit: int = 10) -> dict[str, list[SearchHit]]:
    """{kind key: hits} for every registered kind; empty lists for queries shorter than two characters."""
    q = (q or "").strip()
    if len(q) < MIN_QUERY_LENGTH:
        return {kind.key: [] for kind in kinds()}
    return {kind.key: kind.search(user=user, q=q, limit=limit) for kind in kinds()}
