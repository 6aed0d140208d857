"""Search kinds of this app: customers and contacts (registered with core.search).

Two kinds of match, each served by an index (customers/migrations/0004_search_indexes.py):

- identifiers, exact: customer number, credit code, ID number, the whole name; a contact's mobile or landline, whole
  or its last four digits. They find a record whatever its state (archived, merged), so an old number still leads
  somewhere; they come first.
- a name containing every word of the query (bigram index, core.textsearch), live records only: at most `limit` of
  them are read, in no particular order (no sort over what may be hundreds of thousands of matches), then ranked
  here: whole name, then names starting with the query, then shorter names.

Record scope comes from the selectors (customer_queryset / contact_queryset); phones are masked with phone_for().
Rows are values() dicts from querysets built once per process (_customer_rows, _contact_rows): compiling the columns
of a model and its joined region or customer, and building the instances, was most of these kinds' Python time. The
name searches' statements are compiled once per scope (core.search_statements).
"""

import re
from functools import cache

from django.db.models import F, Q, QuerySet
from django.utils.translation import pgettext, pgettext_lazy

from guanxi.core import search
from guanxi.core.masking import phone_for
from guanxi.core.scope import record_scope
from guanxi.core.search_statements import scoped_matches_in_parts
from guanxi.core.textsearch import NotEmpty, Tail4, WithoutHyphens
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import contact_queryset, customer_queryset

_IDENTIFIER = re.compile(r"[0-9A-Z]{4,32}")
CUSTOMER_FIELDS = ("id", "name", "number", "credit_code", "id_number", "region_id", "archived_at", "merged_into_id")
CONTACT_FIELDS = ("id", "name", "mobile", "landline", "customer_id")


@cache
def _customer_rows() -> QuerySet:
    """The customers' values() queryset, built once; callers only chain on it (filter and slice clone it)."""
    return Customer.objects.values(*CUSTOMER_FIELDS, region_name=F("region__name"))


@cache
def _contact_rows() -> QuerySet:
    return Contact.objects.values(*CONTACT_FIELDS, customer_name=F("customer__name"))


def _name_rank(name: str, text: str) -> tuple:
    folded, wanted = name.casefold(), text.casefold()
    return (folded != wanted, not folded.startswith(wanted), len(name), name)


def _merge(exact: list, by_name: list, text: str, limit: int) -> list:
    """Exact matches first (as found), then name matches ranked; each record once."""
    seen = {row["id"] for row in exact}
    ranked = sorted(
        (row for row in by_name if row["id"] not in seen), key=lambda row: (*_name_rank(row["name"], text), row["id"])
    )
    return (exact + ranked)[:limit]


# --- customers ------------------------------------------------------------------------------------------------------


def customer_matches(*, user, q: str, limit: int) -> list[tuple[dict, str]]:
    """(customer row: CUSTOMER_FIELDS and region_name, what matched) for the query, best first."""
    query = search.parse(q)
    visible = customer_queryset(user=user, base=_customer_rows())
    live = Q(archived_at__isnull=True, merged_into__isnull=True)
    exact_condition = Q(name=query.text) & live
    if _IDENTIFIER.fullmatch(query.compact):
        exact_condition |= Q(number=query.compact)
        if len(query.compact) == 18:
            exact_condition |= Q(credit_code=query.compact) | Q(id_number=query.compact)
    exact = sorted(visible.filter(exact_condition)[:limit], key=lambda row: row["id"])
    by_name = scoped_matches_in_parts(
        key=("customers.customers", record_scope(user)),
        parts=lambda: [visible.filter(live)],
        model=Customer,
        column="name",
        terms=list(query.terms),
        limit=limit,
    )
    return [(row, _customer_match(row, query)) for row in _merge(exact, by_name, query.text, limit)]


def _customer_match(customer: dict, query: search.ParsedQuery) -> str:
    for field in ("number", "credit_code", "id_number"):
        if customer[field] == query.compact:
            return field
    return "name"


def search_customers(*, user, q: str, limit: int) -> list[search.SearchHit]:
    hits = []
    url = search.detail_urls("customers:detail")
    for customer, match in customer_matches(user=user, q=q, limit=limit):
        notes = [customer["number"], customer["region_name"] or ""]
        if customer["merged_into_id"]:
            notes.append(pgettext("search hit", "merged"))
        elif customer["archived_at"]:
            notes.append(pgettext("search hit", "archived"))
        hits.append(
            search.SearchHit(
                id=customer["id"],
                title=customer["name"],
                subtitle=" · ".join(filter(None, notes)),
                url=url(customer["id"]),
                match=match,
            )
        )
    return hits


# --- contacts -------------------------------------------------------------------------------------------------------


def _phone_condition(query: search.ParsedQuery) -> Q | None:
    # Most contacts have no landline: its indexes are partial (landline <> ''), and the query must say so verbatim.
    has_landline = Q(NotEmpty("landline"))
    if query.full_phone:
        return Q(mobile=query.full_phone) | (Q(landline_digits=query.full_phone) & has_landline)
    if query.phone_tail:
        return Q(mobile_tail=query.phone_tail) | (Q(landline_tail=query.phone_tail) & has_landline)
    return None


def contact_matches(*, user, q: str, limit: int) -> list[tuple[dict, str]]:
    """(contact row: CONTACT_FIELDS and customer_name, what matched) for the query, best first."""
    query = search.parse(q)
    visible = contact_queryset(user=user, base=_contact_rows())
    exact: list[dict] = []
    phone = _phone_condition(query)
    if phone is not None:
        with_phones = visible.alias(
            mobile_tail=Tail4("mobile"),
            landline_digits=WithoutHyphens("landline"),
            landline_tail=Tail4(WithoutHyphens("landline")),
        )
        exact = sorted(with_phones.filter(phone)[:limit], key=lambda row: row["id"])
    live = Q(customer__archived_at__isnull=True)
    by_name = scoped_matches_in_parts(
        key=("customers.contacts", record_scope(user)),
        parts=lambda: [visible.filter(live)],
        model=Contact,
        column="name",
        terms=list(query.terms),
        limit=limit,
    )
    return [(row, _contact_match(row, query)) for row in _merge(exact, by_name, query.text, limit)]


def _contact_match(contact: dict, query: search.ParsedQuery) -> str:
    landline = contact["landline"].replace("-", "")
    if query.full_phone:
        if contact["mobile"] == query.full_phone:
            return "mobile"
        if landline == query.full_phone:
            return "landline"
    elif query.phone_tail:
        if contact["mobile"].endswith(query.phone_tail):
            return "mobile"
        if landline.endswith(query.phone_tail):
            return "landline"
    return "name"


def search_contacts(*, user, q: str, limit: int) -> list[search.SearchHit]:
    hits = []
    url = search.detail_urls("customers:detail")
    for contact, match in contact_matches(user=user, q=q, limit=limit):
        phone = contact["landline"] if match == "landline" else (contact["mobile"] or contact["landline"])
        hits.append(
            search.SearchHit(
                id=contact["id"],
                title=contact["name"],
                subtitle=" · ".join(filter(None, [contact["customer_name"], phone_for(user, phone)])),
                url=url(contact["customer_id"]) + "#contacts",
                match=match,
            )
        )
    return hits


search.register(search.SearchKind("customers", pgettext_lazy("search kind", "Customers"), search_customers, order=10))
search.register(search.SearchKind("contacts", pgettext_lazy("search kind", "Contacts"), search_contacts, order=20))
