"""Every read of customers and contacts, already narrowed to what the user may see."""

from functools import cache

from django.db import connection
from django.db.models import CharField, F, IntegerField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from guanxi.core.masking import id_number_for
from guanxi.core.names import full_name
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.scope import restrict
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.models import Category, Contact, Customer, Region, Tag


def customer_queryset(*, user, base: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """All customers `user` may see (record scope and the sensitive-customer rule), archived included; `base`
    narrows or shapes another queryset of customers the same way."""
    return restrict(Customer.objects.all() if base is None else base, user, sensitive_field="sensitive")


def customer_list(
    *, user, filters: CustomerFilters, ordering: str = "name", cursor: str | None = None, limit: int = 50
) -> Page:
    queryset = filters.apply(customer_queryset(user=user))
    queryset = queryset.select_related("category", "region", "owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name"))
    )
    return keyset_page(queryset, ordering=ordering, cursor=cursor, limit=limit)


# The columns of CustomerData that are the customer's own.
ROW_FIELDS = (
    "id", "number", "name", "kind", "category_id", "region_id", "area", "address", "credit_code", "id_number",
    "parent_id", "stage", "grade", "vip", "sensitive", "owner_id", "org_unit_id", "created_at", "updated_at",
    "archived_at", "merged_into_id", "version",
)  # fmt: skip


def customer_rows(
    *, user, filters: CustomerFilters, ordering: str = "name", cursor: str | None = None, limit: int = 50
) -> Page:
    """customer_list as plain rows (the API's list): category, region and owner as names, tags as a list, ID numbers
    masked as `user` may see them. Building 50 customers with three joined models each cost more Python than the
    rest of the request together; rows from values() cost a fraction of it."""
    page = keyset_page(
        filters.apply(customer_queryset(user=user, base=_rows())), ordering=ordering, cursor=cursor, limit=limit
    )
    _finish(user, page.items)
    return page


def customer_row(*, user, customer_id: int) -> dict:
    """customer_get as a plain row (the API's detail, see customer_rows); 404 when absent or out of scope."""
    rows = list(customer_queryset(user=user, base=_rows()).filter(pk=customer_id))
    if not rows:
        raise Http404
    return _finish(user, rows)[0]


@cache
def _rows() -> QuerySet:
    """The rows' values() queryset, built once: resolving its 27 columns and 3 joins cost a list request ~0.5 ms of
    Python each time. Callers only chain on it (filter, order_by, slice clone it), so the shared one never changes.

    On PostgreSQL the tag names come in the row (`tag_names`, an ARRAY subquery over the tag links' customer index):
    one statement per page or detail instead of two — the second round trip and its Python were a quarter of a
    detail request. SQLite reads them with _tags_of."""
    rows = Customer.objects.values(
        *ROW_FIELDS,
        category_name=F("category__name"),
        region_name=F("region__name"),
        owner_username=F("owner__username"),
        owner_first_name=F("owner__first_name"),
        owner_last_name=F("owner__last_name"),
    )
    if connection.vendor == "postgresql":
        rows = rows.annotate(tag_names=_tag_names_column())
    return rows


def _tag_names_column(column: str = "name") -> RawSQL:
    """The customer's tags' `column` (name or id) as an array in the tags' order, a column of the customer's row."""
    from django.contrib.postgres.fields import ArrayField  # PostgreSQL only (psycopg's array types)

    quote = connection.ops.quote_name
    customers = quote(Customer._meta.db_table)
    links, tags = quote(Customer.tags.through._meta.db_table), quote(Tag._meta.db_table)
    return RawSQL(  # noqa: S611 - table names from the models, no values
        f"ARRAY(SELECT t.{column} FROM {links} l JOIN {tags} t ON t.id = l.tag_id "  # noqa: S608 - names from the models
        f"WHERE l.customer_id = {customers}.id ORDER BY t.name, t.id)",
        (),
        output_field=ArrayField(IntegerField() if column == "id" else CharField()),
    )


def _finish(user, rows: list[dict]) -> list[dict]:
    tags = (
        {}
        if not rows or "tag_names" in rows[0]
        else {pk: [name for _, name in tags] for pk, tags in _tags_of([row["id"] for row in rows]).items()}
    )
    for row in rows:
        row["category"] = row.pop("category_name")
        row["region"] = row.pop("region_name")
        username, first, last = row.pop("owner_username"), row.pop("owner_first_name"), row.pop("owner_last_name")
        row["owner"] = full_name(username, first, last)
        row["tags"] = row.pop("tag_names") if "tag_names" in row else tags.get(row["id"], [])
        if row["id_number"]:
            row["id_number"] = id_number_for(user, row["id_number"])
    return rows


def _tags_of(customer_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """(id, name) of the tags per customer, in the tags' own order (by name), in one statement. Written in SQL: on a
    customer detail, building this join through the ORM cost as much Python as the customer's own query."""
    tags: dict[int, list[tuple[int, str]]] = {}
    if not customer_ids:
        return tags
    quote = connection.ops.quote_name
    links, table = quote(Customer.tags.through._meta.db_table), quote(Tag._meta.db_table)
    marks = ", ".join(["%s"] * len(customer_ids))
    sql = (
        f"SELECT l.customer_id, t.id, t.name FROM {links} l JOIN {table} t ON t.id = l.tag_id "  # noqa: S608 - table names from the models, values bound
        f"WHERE l.customer_id IN ({marks}) ORDER BY t.name, t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, customer_ids)
        for customer_id, tag_id, name in cursor.fetchall():
            tags.setdefault(customer_id, []).append((tag_id, name))
    return tags


@cache
def _detail() -> QuerySet[Customer]:
    """customer_get's queryset, built once (callers chain on it). No parent: no caller of customer_get reads it
    (the 360 view's hierarchy panel reads the parent's columns itself, in scope), and its 25 columns cost the 360
    view Python on every request. On PostgreSQL the tags' ids and names come in the customer's row, as in _rows."""
    customers = Customer.objects.select_related("category", "region", "owner", "org_unit")
    if connection.vendor == "postgresql":
        customers = customers.annotate(tag_ids=_tag_names_column("id"), tag_names=_tag_names_column())
    return customers


def customer_get(*, user, customer_id: int) -> Customer:
    """One customer with its category, region, owner, team and tags (customer.tags.all() reads no more); 404 when
    absent or outside the user's scope (the two are indistinguishable)."""
    try:
        # get(), not first(): no ORDER BY to build and sort for one row
        customer = customer_queryset(user=user, base=_detail()).get(pk=customer_id)
    except Customer.DoesNotExist:
        raise Http404 from None
    # The tags as prefetch_related would leave them (the same Tag.objects.only("id", "name") rows in the manager's
    # cache; a write through the manager clears it), read in the customer's own statement on PostgreSQL and with
    # _tags_of's SQL elsewhere: the prefetch machinery cost the 360 view about a third of customer_get's Python.
    if hasattr(customer, "tag_names"):  # PostgreSQL: read with the customer (_detail)
        rows = list(zip(customer.tag_ids, customer.tag_names, strict=True))
        del customer.tag_ids, customer.tag_names
    else:
        rows = _tags_of([customer.pk]).get(customer.pk, [])
    tags = customer.tags.get_queryset()
    tags._result_cache = [Tag.from_db(tags.db, ("id", "name"), row) for row in rows]
    tags._prefetch_done = True
    customer._prefetched_objects_cache = {"tags": tags}
    return customer


def customer_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and customer_queryset(user=user).filter(pk=int(object_id)).exists()


def contact_queryset(*, user, base: QuerySet[Contact] | None = None) -> QuerySet[Contact]:
    """All contacts `user` may see (their customer's scope and sensitive flag); `base` as in customer_queryset."""
    return restrict(
        Contact.objects.all() if base is None else base,
        user,
        owner_field="customer__owner",
        unit_field="customer__org_unit",
        sensitive_field="customer__sensitive",
    )


def contacts_of_customer(*, user, customer_id: int) -> QuerySet[Contact]:
    customer_get(user=user, customer_id=customer_id)
    return Contact.objects.filter(customer_id=customer_id).order_by("-primary", "name", "id")


def contact_get(*, user, contact_id: int) -> Contact:
    contact = contact_queryset(user=user).select_related("customer").filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


def contact_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and contact_queryset(user=user).filter(pk=int(object_id)).exists()


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def region_list(*, parent: int | None = None, level: str | None = None) -> QuerySet[Region]:
    regions = Region.objects.all()
    if parent is not None:
        regions = regions.filter(parent_id=parent)
    if level:
        regions = regions.filter(level=level)
    return regions


def contact_list(*, user, q: str = "", cursor: str | None = None, limit: int = 50) -> Page:
    """Contacts the user may see, by name; `q` matches a name substring or a mobile (full or last digits)."""
    contacts = contact_queryset(user=user).select_related("customer")
    term = q.strip()
    if term:
        digits = term.replace("-", "").replace(" ", "")
        condition = Q(name__icontains=term)
        if digits.isdigit() and len(digits) >= 4:
            condition |= Q(mobile__endswith=digits)
        contacts = contacts.filter(condition)
    return keyset_page(contacts, ordering="name", cursor=cursor, limit=limit)
