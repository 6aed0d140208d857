"""Every read of customers and contacts, already narrowed to what the user may see."""

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from guanxi.core.pagination import Page, keyset_page
from guanxi.core.scope import restrict
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.models import Category, Contact, Customer, Region, Tag


def customer_queryset(*, user) -> QuerySet[Customer]:
    """All customers `user` may see (record scope and the sensitive-customer rule), archived included."""
    return restrict(Customer.objects.all(), user, sensitive_field="sensitive")


def customer_list(
    *, user, filters: CustomerFilters, ordering: str = "name", cursor: str | None = None, limit: int = 50
) -> Page:
    queryset = filters.apply(customer_queryset(user=user))
    queryset = queryset.select_related("category", "region", "owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name"))
    )
    return keyset_page(queryset, ordering=ordering, cursor=cursor, limit=limit)


def customer_get(*, user, customer_id: int) -> Customer:
    """One customer; 404 when absent or outside the user's scope (the two are indistinguishable)."""
    queryset = (
        customer_queryset(user=user)
        .select_related("category", "region", "owner", "org_unit", "parent")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("id", "name")))
    )
    try:
        return queryset.get(pk=customer_id)  # get(), not first(): no ORDER BY to build and sort for one row
    except Customer.DoesNotExist:
        raise Http404 from None


def customer_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and customer_queryset(user=user).filter(pk=int(object_id)).exists()


def contact_queryset(*, user) -> QuerySet[Contact]:
    return restrict(
        Contact.objects.all(),
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
