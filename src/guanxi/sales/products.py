"""Products, price lists and the price lookup (C3): reads and writes, validated, versioned and audited."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.permissions import require
from guanxi.core.versioning import check_version, save_versioned, update_versioned
from guanxi.customers.models import Category, Customer
from guanxi.sales.commerce_common import full_clean
from guanxi.sales.models import PriceList, PriceListItem, Product

PRODUCT_FIELDS = ("code", "name", "kind", "unit", "tax_rate", "description", "active")
PRICE_LIST_FIELDS = ("name", "category_id", "valid_from", "valid_to", "active", "note")

# --- reads ---------------------------------------------------------------------------------------------------------


def product_list(*, active: bool | None = None, kind: str | None = None, q: str = "") -> QuerySet[Product]:
    """The catalogue is not scoped: every signed-in user may read it (prices are not customer data)."""
    products = Product.objects.all()
    if active is not None:
        products = products.filter(active=active)
    if kind:
        products = products.filter(kind=kind)
    if q.strip():
        products = products.filter(Q(name__icontains=q.strip()) | Q(code__icontains=q.strip()))
    return products.order_by("code")


def product_get(*, product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise Http404
    return product


def price_list_list(*, category_id: int | None = None, on_date: datetime.date | None = None) -> QuerySet[PriceList]:
    lists = PriceList.objects.select_related("category")
    if category_id is not None:
        lists = lists.filter(category_id=category_id)
    if on_date is not None:
        lists = lists.filter(_valid_on(on_date, prefix=""))
    return lists.order_by("-valid_from", "name", "id")


def price_list_get(*, price_list_id: int) -> PriceList:
    price_list = (
        PriceList.objects.select_related("category").prefetch_related("items__product").filter(pk=price_list_id).first()
    )
    if price_list is None:
        raise Http404
    return price_list


def price_for(product: Product, customer: Customer | None, on_date: datetime.date) -> Decimal | None:
    """The unit price of `product` for `customer` on `on_date`: from the active price list valid that day for the
    customer's category, else its nearest parent category, else a list for every category; None when none applies."""
    item = price_item_for(product, customer, on_date)
    return item.unit_price if item else None


def price_item_for(product: Product, customer: Customer | None, on_date: datetime.date) -> PriceListItem | None:
    return price_items_for([product.pk], customer, on_date).get(product.pk)


def price_items_for(
    product_ids: list[int], customer: Customer | None, on_date: datetime.date
) -> dict[int, PriceListItem]:
    """The price list item that prices each product (see price_for), by product id, in one query; products that no
    list prices are absent."""
    category_ids: list[int] = []
    if customer is not None and customer.category_id:
        path = customer.category.path  # "/1/4/9/": the customer's category and its ancestors, nearest last
        category_ids = [int(part) for part in reversed(path.strip("/").split("/")) if part] or [customer.category_id]
    candidates = (
        PriceListItem.objects.filter(product_id__in=set(product_ids), price_list__active=True)
        .filter(_valid_on(on_date))
        .filter(Q(price_list__category_id__in=category_ids) | Q(price_list__category__isnull=True))
        .select_related("price_list")
    )
    rank = {category_id: index for index, category_id in enumerate(category_ids)}  # nearest category first
    found: dict[int, PriceListItem] = {}
    for item in sorted(candidates, key=lambda i: rank.get(i.price_list.category_id, len(rank))):
        found.setdefault(item.product_id, item)
    return found


def _valid_on(on_date: datetime.date, prefix: str = "price_list__") -> Q:
    return Q(**{f"{prefix}valid_from__lte": on_date}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": on_date})
    )


# --- writes --------------------------------------------------------------------------------------------------------


def product_create(*, actor, data: dict) -> Product:
    """A new product, service or tariff item in the catalogue."""
    require(actor, "sales.add_product")
    with transaction.atomic():
        product = Product(**{k: v for k, v in data.items() if k in PRODUCT_FIELDS})
        full_clean(product)
        _save_unique(product)
        audit.record(actor=actor, action="create", instance=product, changes=_created(product))
    return product


def product_update(*, actor, product_id: int, version: int, data: dict) -> Product:
    require(actor, "sales.change_product")

    def apply(product: Product) -> None:
        for key in (k for k in data if k in PRODUCT_FIELDS):
            setattr(product, key, data[key])
        full_clean(product)

    try:
        return update_versioned(Product.objects.all(), product_id, actor=actor, version=version, apply=apply)
    except IntegrityError as exc:  # the code, taken by another product meanwhile (nothing was written)
        raise ValidationError({"code": _("Another product already has this code.")}) from exc


def price_list_create(*, actor, data: dict) -> PriceList:
    """A price list with its items ([{product_id, unit_price}]); overlapping prices for a product → 422."""
    require(actor, "sales.add_pricelist")
    items = data.pop("items", None) or []
    with transaction.atomic():
        price_list = PriceList(**{k: v for k, v in data.items() if k in PRICE_LIST_FIELDS})
        _check_category(price_list)
        _check_period(price_list)
        full_clean(price_list)
        price_list.save()
        _set_items(price_list, items)
        _check_overlaps(price_list)
        changes = _created(price_list)
        changes["items"] = [None, [[i["product_id"], str(i["unit_price"])] for i in items]]
        audit.record(actor=actor, action="create", instance=price_list, changes=changes)
    return price_list


def price_list_update(*, actor, price_list_id: int, version: int, data: dict) -> PriceList:
    """Change a price list's period, category or (with `items`) its prices; the overlap rule is checked again."""
    require(actor, "sales.change_pricelist")
    items = data.pop("items", None)
    with transaction.atomic():
        price_list = PriceList.objects.select_for_update().filter(pk=price_list_id).first()
        if price_list is None:
            raise Http404
        check_version(price_list, version)
        before = audit.snapshot(price_list)
        items_before = _items_repr(price_list)
        for key in (k for k in data if k in PRICE_LIST_FIELDS):
            setattr(price_list, key, data[key])
        _check_category(price_list)
        _check_period(price_list)
        full_clean(price_list)
        changes = audit.diff(before, audit.snapshot(price_list))
        changes.pop("version", None)
        if items is not None:
            price_list.items.all().delete()
            _set_items(price_list, items)
            items_after = _items_repr(price_list)
            if items_after != items_before:
                changes["items"] = [items_before, items_after]
        if not changes:
            return price_list
        save_versioned(price_list, [k for k in changes if k != "items"])
        _check_overlaps(price_list)
        audit.record(actor=actor, action="update", instance=price_list, changes=changes)
    return price_list


def _set_items(price_list: PriceList, items: list[dict]) -> None:
    seen: set[int] = set()
    products = Product.objects.in_bulk([i.get("product_id") for i in items if i.get("product_id")])
    rows = []
    for index, item in enumerate(items):
        product = products.get(item.get("product_id"))
        if product is None:
            raise ValidationError({f"items.{index}.product_id": _("No such product.")})
        if product.pk in seen:
            raise ValidationError({f"items.{index}.product_id": _("This product is listed twice.")})
        seen.add(product.pk)
        row = PriceListItem(price_list=price_list, product=product, unit_price=item.get("unit_price"))
        full_clean(row, exclude=["price_list", "product"], prefix=f"items.{index}.")  # product: fetched above
        rows.append(row)
    PriceListItem.objects.bulk_create(rows)


def _check_category(price_list: PriceList) -> None:
    if price_list.category_id and not Category.objects.filter(pk=price_list.category_id).exists():
        raise ValidationError({"category_id": _("No such category.")})


def _check_period(price_list: PriceList) -> None:
    if price_list.valid_to and price_list.valid_from and price_list.valid_to < price_list.valid_from:
        raise ValidationError({"valid_to": _("The end of the period is before its start.")})


def _check_overlaps(price_list: PriceList) -> None:
    """No two active price lists of the same category may price one product over overlapping periods."""
    if not price_list.active:
        return
    others = PriceListItem.objects.filter(
        price_list__active=True,
        price_list__category_id=price_list.category_id,
        product_id__in=price_list.items.values("product_id"),
    ).exclude(price_list=price_list)
    others = others.filter(Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gte=price_list.valid_from))
    if price_list.valid_to:
        others = others.filter(price_list__valid_from__lte=price_list.valid_to)
    clash = others.select_related("product", "price_list").first()
    if clash is not None:
        raise ValidationError(
            {
                "valid_from": _(
                    "%(product)s already has a price for this category in “%(list)s” over an overlapping period."
                )
                % {"product": clash.product.name, "list": clash.price_list.name}
            }
        )


def _items_repr(price_list: PriceList) -> list:
    return [[i.product_id, str(i.unit_price)] for i in price_list.items.order_by("product_id")]


def _save_unique(product: Product) -> None:
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("Another product already has this code.")}) from exc


def _created(instance) -> dict:
    return {name: [None, value] for name, value in audit.snapshot(instance).items() if value not in (None, "")}
