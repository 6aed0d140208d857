"""Duplicate candidates (查重, A4): pairs of customers that may be one and the same, each with a reason and a score.

Reads only, scoped like every selector: a pair is listed only when the user may see both customers. Merged customers
(tombstones) and archived customers take no part in pairs; the create-time check also looks at archived ones.

Reasons, strongest first (docs/duplicates.md explains each rule and what it costs):

- ``credit_code``: the same organisation code — positions 9-17 of the 统一社会信用代码, kept for life by GB 32100 —
  under two credit codes (the registration or region part differs, or a case variant came in through a bulk path).
- ``name``: the same normalised name (normalize.name_key). People share names, so two individuals count only when
  they are in the same region.
- ``phone``: one contact mobile on both customers. A mobile on more than MAX_PHONE_GROUP customers is a switchboard or
  an agent, not evidence, and is ignored.
- ``similar_name``: organisations of the same region whose name keys are similar (difflib ratio ≥ SIMILARITY), found
  by the sorted-neighbourhood method: each region's keys are sorted, forwards and reversed, and each key is compared
  with its next WINDOW neighbours only — O(n · WINDOW) per region, never all pairs.

The list is keyset-paginated per reason: the cursor holds the reason, the last group key (name key, organisation code,
mobile or region id) and how many pairs of that group were already returned.
"""

import base64
import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Count, QuerySet
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Collate, Substr, Upper
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core.masking import phone_for
from guanxi.core.pagination import BadCursor, Page
from guanxi.customers.models import Contact, Customer
from guanxi.customers.normalize import name_key
from guanxi.customers.selectors import customer_queryset
from guanxi.customers.validators import normalize_credit_code, normalize_mobile

REASONS = ("credit_code", "name", "phone", "similar_name")
REASON_LABELS: dict[str, Promise] = {
    "credit_code": _("Same credit code"),
    "id_number": _("Same ID number"),
    "name": _("Same name"),
    "phone": _("Same phone"),
    "similar_name": _("Similar name, same region"),
}
# Scores order the reasons by how sure they are; similar names score below an exact name match.
SCORE_SAME_CODE = 1.0
SCORE_SAME_ORGANISATION_CODE = 0.97
SCORE_SAME_NAME = 0.95
SCORE_SAME_NAME_INDIVIDUAL = 0.7
SCORE_PHONE_PAIR = 0.8
SCORE_PHONE_GROUP = 0.6
SIMILAR_WEIGHT = 0.9

SIMILARITY = 0.8  # difflib ratio of two name keys from which names count as similar
WINDOW = 8  # neighbours each key is compared with, per sort order
MIN_SIMILAR_KEY = 4  # shorter keys (张伟, 华为) are too short for "similar" to mean anything
MAX_PHONE_GROUP = 5
MAX_PHONE_CONTACTS = 20  # contacts with one mobile beyond which it is a switchboard whoever holds it
STAR_GROUP = 10  # a group larger than this is listed as pairs with its oldest customer, not all pairs
GROUP_BATCH = 200  # groups fetched per query
# Repeated mobiles fetched per query: each query scans the mobile index until it has that many, so the first is
# small (a page of pairs) and the next ones grow when the user's scope makes most of them invisible.
PHONE_BATCH = 64
MAX_PHONE_BATCH = 4096
PHONE_BATCH_COST = 10  # budget units a repeated mobile costs: a page reads at most ~PAGE_BUDGET/10 of them
SIMILAR_BATCH = 5_000  # organisations read per query for similar names (small regions share one query)
PAGE_BUDGET = 60_000  # customers a page may examine for similar names before it returns with a cursor
CREATE_CHECK_SCAN = 500  # customers of the region with the same first characters compared at create time
AFTER_GROUP = -1  # cursor "skip" meaning: the group is done, go on after it


@dataclass(frozen=True)
class DuplicatePair:
    """Two customers that may be one: `first` is the older (lower id)."""

    first: Customer
    second: Customer
    reason: str
    score: float
    evidence: str  # what they share: organisation code, name key, mobile (masked for the user) or similarity

    @property
    def reason_label(self) -> Promise:
        return REASON_LABELS[self.reason]


@dataclass(frozen=True)
class DuplicateMatch:
    """An existing customer that looks like the one being created, with every reason found and the best score."""

    customer: Customer
    reasons: tuple[str, ...]
    score: float

    @property
    def reason_labels(self) -> list[Promise]:
        return [REASON_LABELS[reason] for reason in self.reasons]


# (first_id, second_id, score, evidence)
RawPair = tuple[int, int, float, str]


@dataclass
class _Group:
    key: str | int
    pairs: list[RawPair] = field(default_factory=list)
    cost: int = 0  # customers examined to build it


def candidate_customers(*, user) -> QuerySet[Customer]:
    """The customers that take part in pairs: visible to the user, live, not merged."""
    return customer_queryset(user=user).filter(merged_into__isnull=True, archived_at__isnull=True)


def duplicate_pairs(*, user, reason: str | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    """Candidate pairs both of whose customers `user` may see, by reason then group key. A page may hold fewer than
    `limit` pairs, even none, while `next` is set: it stops after PAGE_BUDGET customers examined, and the page after a
    full one may find nothing more."""
    reasons = [reason] if reason else list(REASONS)
    state = _decode(cursor) if cursor else None
    if state is not None and state[0] not in reasons:
        raise BadCursor("cursor of another reason")
    live = candidate_customers(user=user)
    raw: list[tuple[str, RawPair]] = []
    next_state = None
    spent = 0
    for current in reasons[reasons.index(state[0]) if state else 0 :]:
        after, skip = (state[1], state[2]) if state and state[0] == current else (None, 0)
        for group in _SOURCES[current](live, after, inclusive=skip != AFTER_GROUP):
            done = skip if group.key == after and skip > 0 else 0
            pairs = group.pairs[done:]
            spent += group.cost
            room = limit - len(raw)
            raw.extend((current, pair) for pair in pairs[:room])
            if len(pairs) > room:  # the page is full inside this group: the next one goes on from here
                next_state = (current, group.key, done + room)
                break
            if len(raw) >= limit or spent > PAGE_BUDGET:
                next_state = (current, group.key, AFTER_GROUP)
                break
        if next_state is not None:
            break
    return Page(items=_load_pairs(user, raw), next=_encode(next_state) if next_state else None)


def likely_duplicates_of(
    *,
    user,
    name: str | None = "",
    kind: str | None = None,
    credit_code: str | None = None,
    id_number: str | None = None,
    region_id: int | None = None,
    mobile: str | None = None,
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[DuplicateMatch]:
    """Existing customers (visible to `user`, archived included) that look like the one described: the warning shown
    when a customer is created. Each lookup uses an index; similar names are looked for in the same region among names
    starting with the same two characters."""
    visible = customer_queryset(user=user)
    found: dict[int, dict[str, float]] = defaultdict(dict)
    code = normalize_credit_code(credit_code or "")
    if code:
        for pk in visible.filter(credit_code=code).values_list("pk", flat=True):
            found[pk]["credit_code"] = SCORE_SAME_CODE
    person = normalize_credit_code(id_number or "")
    if person:
        for pk in visible.filter(id_number=person).values_list("pk", flat=True):
            found[pk]["id_number"] = SCORE_SAME_CODE
    live = visible.filter(merged_into__isnull=True)
    key = name_key(name)
    if key:
        for pk, other_kind, other_region in live.filter(name_key=key).values_list("pk", "kind", "region_id")[:50]:
            individual = Customer.Kind.INDIVIDUAL in (kind, other_kind)
            if not individual:
                found[pk]["name"] = SCORE_SAME_NAME
            elif region_id and other_region == region_id:
                found[pk]["name"] = SCORE_SAME_NAME_INDIVIDUAL
    if region_id and len(key) >= MIN_SIMILAR_KEY and kind != Customer.Kind.INDIVIDUAL:
        nearby = (
            live.filter(region_id=region_id, kind=Customer.Kind.ORGANISATION, name_key__startswith=key[:2])
            .exclude(name_key=key)
            .values_list("pk", "name_key")[:CREATE_CHECK_SCAN]
        )
        for pk, other_key in nearby:
            ratio = similarity(key, other_key)
            if ratio >= SIMILARITY:
                found[pk]["similar_name"] = round(SIMILAR_WEIGHT * ratio, 3)
    phone = normalize_mobile(mobile or "")
    if phone:
        owners = Contact.objects.filter(mobile=phone, customer__in=live).values_list("customer_id", flat=True)
        for pk in owners[:50]:
            found[pk]["phone"] = SCORE_PHONE_PAIR
    found.pop(exclude_id, None)
    order = {reason: index for index, reason in enumerate(("credit_code", "id_number", *REASONS[1:]))}
    ranked = sorted(found.items(), key=lambda item: (-max(item[1].values()), item[0]))
    matches: list[DuplicateMatch] = []
    # Only the best `limit` become instances (with region and owner): a name created again and again found hundreds
    # of similar customers, all of them built to show ten. A customer gone meanwhile lets the next one in.
    while ranked and len(matches) < limit:
        batch, ranked = ranked[: limit - len(matches)], ranked[limit - len(matches) :]
        customers = visible.select_related("region", "owner").in_bulk([pk for pk, _scores in batch])
        matches += [
            DuplicateMatch(
                customer=customers[pk], reasons=tuple(sorted(scores, key=order.get)), score=max(scores.values())
            )
            for pk, scores in batch
            if pk in customers
        ]
    return matches


def described_by(customer: Customer | Mapping) -> dict:
    """The arguments of likely_duplicates_of() describing a customer, or the data of a customer form or import row."""
    names = ("name", "kind", "credit_code", "id_number", "region_id")
    if isinstance(customer, Mapping):
        return {name: customer.get(name) for name in names}
    return {name: getattr(customer, name) for name in names}


def survivor_of(*, user, customer: Customer) -> Customer | None:
    """The live customer a tombstone was merged into, if the user may see it (None for a customer never merged)."""
    target, seen = customer.merged_into_id, set()
    while target and target not in seen:  # merges re-point older tombstones, so this is normally one step
        seen.add(target)
        survivor = customer_queryset(user=user).filter(pk=target).first()
        if survivor is None or survivor.merged_into_id is None:
            return survivor
        target = survivor.merged_into_id
    return None


def similarity(first: str, second: str) -> float:
    """difflib's ratio of two name keys (2 × matching characters / total characters), 0 … 1."""
    if not first or not second:
        return 0.0
    return _Comparer(first).ratio_with(_Comparer(second))


class _Comparer:
    """One key compared with many: most comparisons end on cheap upper bounds of the ratio (the lengths, then the
    characters in common); difflib runs on the rest, reusing its analysis of this key."""

    __slots__ = ("key", "chars", "counts", "_matcher")

    def __init__(self, key: str):
        self.key = key
        self.chars = frozenset(key)
        # Chinese names rarely repeat a character: then a set intersection counts the characters in common.
        self.counts = Counter(key) if len(self.chars) < len(key) else None
        self._matcher: difflib.SequenceMatcher | None = None

    def ratio_with(self, other: "_Comparer") -> float:
        total = len(self.key) + len(other.key)
        if self.counts is None and other.counts is None:
            common = len(self.chars & other.chars)  # also ≤ the shorter length: bounds the length difference
        else:
            mine, theirs = self.counts or Counter(self.key), other.counts or Counter(other.key)
            common = sum((mine & theirs).values())
        if 2 * common < SIMILARITY * total:
            return 0.0
        if self._matcher is None:
            self._matcher = difflib.SequenceMatcher(None, autojunk=False)
            self._matcher.set_seq2(self.key)
        self._matcher.set_seq1(other.key)
        return self._matcher.ratio()


def similar_pairs(rows: list[tuple[int, str]], *, window: int = WINDOW) -> list[RawPair]:
    """Similar-name pairs among one region's (id, name key) rows by the sorted-neighbourhood method: keys sorted as
    they are and reversed (so 北京恒聪科技 meets 恒聪科技), each compared with its next `window` keys."""
    ids_by_key: dict[str, list[int]] = defaultdict(list)
    for pk, key in rows:
        if len(key) >= MIN_SIMILAR_KEY:
            ids_by_key[key].append(pk)
    comparers = {key: _Comparer(key) for key in ids_by_key}
    ratios: dict[tuple[str, str], float] = {}
    for keys in (sorted(comparers), sorted(comparers, key=lambda key: key[::-1])):
        ordered = [comparers[key] for key in keys]
        for index, comparer in enumerate(ordered):
            for other in ordered[index + 1 : index + 1 + window]:
                pair = (comparer.key, other.key) if comparer.key < other.key else (other.key, comparer.key)
                if pair not in ratios:
                    ratios[pair] = comparer.ratio_with(other)
    found: list[RawPair] = []
    for (key, other), ratio in ratios.items():
        if ratio < SIMILARITY:
            continue
        for a in ids_by_key[key]:
            for b in ids_by_key[other]:
                found.append((min(a, b), max(a, b), round(SIMILAR_WEIGHT * ratio, 3), f"{ratio:.2f}"))
    return sorted(found)


# --- the four sources: groups in key order, from `after` on (or just after it) ----------------------------------


class _IdList(Aggregate):
    """The ids of a group as one comma-separated string (GROUP_CONCAT on SQLite, string_agg on PostgreSQL)."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s(%(expressions)s::text, ',')", **extra
        )


def _credit_code_groups(live: QuerySet, after, *, inclusive: bool = True) -> Iterator[_Group]:
    """Same organisation code (credit code characters 9-17). No index serves this expression: each batch is one scan
    of the user's customers that have a credit code, grouped by it."""
    organisation = Upper(Substr("credit_code", 9, 9))
    if connection.vendor == "postgresql":  # sort by code point, not the database locale: digits and A-Z only
        organisation = Collate(organisation, "C")
    coded = live.filter(credit_code__isnull=False).annotate(organisation=organisation)
    while True:
        groups = coded.values("organisation").annotate(n=Count("id"), ids=_IdList("id")).filter(n__gt=1)
        if after is not None:
            groups = groups.filter(**{"organisation__gte" if inclusive else "organisation__gt": after})
        batch = list(groups.order_by("organisation")[:GROUP_BATCH])
        ids = sorted({int(pk) for row in batch for pk in row["ids"].split(",")})
        codes = dict(live.filter(pk__in=ids).values_list("pk", "credit_code"))
        for row in batch:
            members = sorted(int(pk) for pk in row["ids"].split(","))
            pairs = [
                (a, b, SCORE_SAME_CODE if codes.get(a, "").upper() == codes.get(b, "").upper() else
                 SCORE_SAME_ORGANISATION_CODE, row["organisation"])
                for a, b in _group_pairs(members)
            ]  # fmt: skip
            yield _Group(row["organisation"], pairs, len(members))
        if len(batch) < GROUP_BATCH:
            return
        after, inclusive = batch[-1]["organisation"], False


def _name_groups(live: QuerySet, after, *, inclusive: bool = True) -> Iterator[_Group]:
    """Same name key: an index range scan of customers_customer.name_key, grouped."""
    named = live.exclude(name_key="")
    while True:
        groups = named.values("name_key").annotate(n=Count("id")).filter(n__gt=1)
        if after is not None:
            groups = groups.filter(**{"name_key__gte" if inclusive else "name_key__gt": after})
        keys = list(groups.order_by("name_key").values_list("name_key", flat=True)[:GROUP_BATCH])
        members: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
        for pk, key, kind, region in named.filter(name_key__in=keys).values_list("pk", "name_key", "kind", "region_id"):
            members[key].append((pk, kind, region))
        for key in keys:
            rows = sorted(members[key])
            kinds = {pk: (kind, region) for pk, kind, region in rows}
            pairs = []
            for a, b in _group_pairs([pk for pk, _kind, _region in rows]):
                if Customer.Kind.INDIVIDUAL not in (kinds[a][0], kinds[b][0]):
                    pairs.append((a, b, SCORE_SAME_NAME, key))
                elif kinds[a][1] is not None and kinds[a][1] == kinds[b][1]:
                    pairs.append((a, b, SCORE_SAME_NAME_INDIVIDUAL, key))
            yield _Group(key, pairs, len(rows))
        if len(keys) < GROUP_BATCH:
            return
        after, inclusive = keys[-1], False


def _phone_groups(live: QuerySet, after, *, inclusive: bool = True) -> Iterator[_Group]:
    """Same contact mobile on 2 … MAX_PHONE_GROUP customers. Mobiles held by more than one contact come from an
    index-only scan of contact_mobile_idx (no join: joining every contact to its customer costs a random read per
    contact); the few found are then narrowed to distinct customers the user may see."""
    repeated = Contact.objects.exclude(mobile="").values("mobile").annotate(n=Count("*"))  # COUNT(*): index only
    repeated = repeated.filter(n__gt=1, n__lte=MAX_PHONE_CONTACTS)
    size = PHONE_BATCH
    while True:
        batch = repeated
        if after is not None:
            batch = batch.filter(**{"mobile__gte" if inclusive else "mobile__gt": after})
        keys = list(batch.order_by("mobile").values_list("mobile", flat=True)[:size])
        holders: dict[str, set[int]] = defaultdict(set)
        for mobile, customer_id in Contact.objects.filter(mobile__in=keys).values_list("mobile", "customer_id"):
            holders[mobile].add(customer_id)
        shared = {mobile: ids for mobile, ids in holders.items() if 1 < len(ids) <= MAX_PHONE_GROUP}
        visible = set(live.filter(pk__in={pk for ids in shared.values() for pk in ids}).values_list("pk", flat=True))
        for mobile in keys:
            ids = sorted(shared.get(mobile, set()) & visible)
            score = SCORE_PHONE_PAIR if len(shared.get(mobile, ())) == 2 else SCORE_PHONE_GROUP
            yield _Group(mobile, [(a, b, score, mobile) for a, b in _group_pairs(ids)], PHONE_BATCH_COST)
        if len(keys) < size:
            return
        after, inclusive, size = keys[-1], False, min(size * 4, MAX_PHONE_BATCH)


def _similar_name_groups(live: QuerySet, after, *, inclusive: bool = True) -> Iterator[_Group]:
    """Similar names, one region at a time (regions in id order). Organisations are read in region order from the
    (region, name, id) index, SIMILAR_BATCH rows a query (small regions share one), and compared in memory by
    similar_pairs()."""
    organisations = live.filter(kind=Customer.Kind.ORGANISATION)
    region = after if isinstance(after, int) else 0
    if not inclusive and isinstance(after, int):
        region += 1
    while True:
        rows = list(
            organisations.filter(region_id__gte=region)
            .order_by("region_id")
            .values_list("region_id", "pk", "name_key")[:SIMILAR_BATCH]
        )
        if not rows:
            return
        by_region: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for region_id, pk, key in rows:
            by_region[region_id].append((pk, key))
        regions = list(by_region)
        if len(rows) == SIMILAR_BATCH:  # the last region may be cut short: read it again, whole
            last = regions[-1]
            if len(regions) > 1:
                regions.pop()
            else:
                by_region[last] = list(organisations.filter(region_id=last).values_list("pk", "name_key"))
        for region_id in regions:
            yield _Group(region_id, similar_pairs(by_region[region_id]), len(by_region[region_id]))
        region = regions[-1] + 1


_SOURCES = {
    "credit_code": _credit_code_groups,
    "name": _name_groups,
    "phone": _phone_groups,
    "similar_name": _similar_name_groups,
}


# --- helpers ------------------------------------------------------------------------------------------------------


def _group_pairs(ids: list[int]) -> list[tuple[int, int]]:
    """Every pair of a small group; a large one (a chain store written the same way) pairs with its oldest only."""
    if len(ids) > STAR_GROUP:
        return [(ids[0], other) for other in ids[1:]]
    return [(a, b) for index, a in enumerate(ids) for b in ids[index + 1 :]]


def _load_pairs(user, raw: list[tuple[str, RawPair]]) -> list[DuplicatePair]:
    ids = {pk for _reason, (a, b, _score, _evidence) in raw for pk in (a, b)}
    customers = customer_queryset(user=user).select_related("region", "owner").in_bulk(list(ids))
    pairs = []
    for reason, (a, b, score, evidence) in raw:
        if a in customers and b in customers:
            shown = phone_for(user, evidence) if reason == "phone" else evidence
            pairs.append(DuplicatePair(customers[a], customers[b], reason, score, shown))
    return pairs


def _encode(state: tuple) -> str:
    raw = json.dumps(list(state), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        reason, key, skip = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if reason not in _SOURCES or not isinstance(skip, int) or skip < AFTER_GROUP:
            raise TypeError
        if key is not None and not isinstance(key, int if reason == "similar_name" else str):
            raise TypeError
    except (ValueError, TypeError) as exc:
        raise BadCursor("invalid cursor") from exc
    return reason, key, skip
