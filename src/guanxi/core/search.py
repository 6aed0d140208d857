"""The global search (J8): one box, results grouped by kind. Apps register their kinds; core knows none of them.

A kind's search function gets the user, the query text and a limit, and returns at most `limit` hits the user may see
(record scope applied, personal data masked), best first. `parse()` reads the query once for every kind: the words
for substring search, and the same text compacted for identifiers (numbers, codes, phones). docs/search.md describes
the indexes behind it.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.urls import reverse
from django.utils.functional import Promise

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    subtitle: str
    url: str
    match: str = "name"  # what matched: name, number, credit_code, id_number, mobile, landline …


@dataclass(frozen=True)
class SearchKind:
    key: str  # "customers", "contacts" … (the key in the API answer)
    label: str | Promise
    search: Callable[..., list[SearchHit]]  # search(user=…, q=…, limit=…) — must apply record scope and masking
    order: int = 100


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # stripped, inner whitespace collapsed to one space
    terms: tuple[str, ...]  # the words of `text`; a substring search wants all of them
    compact: str  # NFKC (full-width → half-width), spaces and hyphens removed, upper case: 91230200…, CB010000123
    phone: str  # `compact` as phone digits (+86 / 0086 dropped) when it is all digits, else ""

    @property
    def phone_tail(self) -> str:
        """Four digits: the last four of a phone number."""
        return self.phone if len(self.phone) == 4 else ""

    @property
    def full_phone(self) -> str:
        """Seven or more digits: a whole mobile or landline number."""
        return self.phone if len(self.phone) >= 7 else ""


_SEPARATORS = re.compile(r"[\s\-()（）]+")


# Control characters (a NUL above all) mean nothing in a search and make SQLite's full-text MATCH fail: separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@lru_cache(maxsize=256)
def parse(q: str) -> ParsedQuery:
    text = " ".join(_CONTROL.sub(" ", q or "").split())[:MAX_QUERY_LENGTH]
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    phone = compact.removeprefix("+")
    for prefix in ("0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix) :]
    return ParsedQuery(text=text, terms=tuple(text.split()), compact=compact, phone=phone if phone.isdigit() else "")


_URL_PLACEHOLDER = 918273645546372819


def detail_urls(viewname: str) -> Callable[[int], str]:
    """id → reverse(viewname, args=[id]) for the hits of one search: reverse() costs ~0.1 ms a call, so the URL is
    reversed once, with a placeholder id, and the ids are put in its place."""
    template = reverse(viewname, args=[_URL_PLACEHOLDER])
    marker = str(_URL_PLACEHOLDER)
    return lambda pk: template.replace(marker, str(pk))


_kinds: dict[str, SearchKind] = {}


def register(kind: SearchKind) -> None:
    _kinds[kind.key] = kind


def kinds() -> list[SearchKind]:
    return sorted(_kinds.values(), key=lambda kind: (kind.order, kind.key))


def search_all(*, user, q: str, limit: int = 10) -> dict[str, list[SearchHit]]:
    """{kind key: hits} for every registered kind; empty lists for queries shorter than two characters."""
    text = parse(q).text
    if len(text) < MIN_QUERY_LENGTH:
        return {kind.key: [] for kind in kinds()}
    return {kind.key: kind.search(user=user, q=text, limit=limit) for kind in kinds()}
