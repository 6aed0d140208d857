"""The two endpoints: a keyset-paginated, filtered customer list and a customer detail. Nothing else."""

import base64
import json
from datetime import datetime

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Schema

from floor.models import Customer, Region, Tag

api = NinjaAPI(title="floor", docs_url=None)


class CustomerOut(Schema):
    id: int
    number: str
    name: str
    kind: str
    category_id: int | None
    category: str | None
    region_id: int | None
    region: str | None
    area: str
    address: str
    credit_code: str | None
    id_number: str | None
    parent_id: int | None
    stage: str
    grade: str
    vip: bool
    sensitive: bool
    tags: list[str]
    owner_id: int | None
    owner: str | None
    org_unit_id: int | None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    merged_into_id: int | None
    version: int

    @staticmethod
    def resolve_category(obj) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_region(obj) -> str | None:
        return obj.region.name if obj.region_id else None

    @staticmethod
    def resolve_owner(obj) -> str | None:
        if not obj.owner_id:
            return None
        return f"{obj.owner.first_name} {obj.owner.last_name}".strip() or obj.owner.username

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: str | None


def customers():
    tags = Prefetch("tags", queryset=Tag.objects.only("id", "name"))
    return Customer.objects.select_related("category", "region", "owner").prefetch_related(tags)


@api.get("/customers", response=CustomerPage)
def list_customers(
    request,
    region: int | None = None,
    grade: str | None = None,
    owner: int | None = None,
    sensitive: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    queryset = customers().filter(archived_at__isnull=True)
    if region is not None:
        path = Region.objects.filter(pk=region).values("path")[:1]
        queryset = queryset.filter(region_id__in=list(Region.objects.filter(path__startswith=path).values_list("id")))
    if grade:
        queryset = queryset.filter(grade=grade)
    if owner is not None:
        queryset = queryset.filter(owner_id=owner)
    if sensitive is not None:
        queryset = queryset.filter(sensitive=sensitive)
    if cursor:
        name, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        queryset = queryset.filter(Q(name__gte=name) & (Q(name__gt=name) | Q(name=name, id__gt=last_id)))
    rows = list(queryset.order_by("name", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        raw = json.dumps([rows[-1].name, rows[-1].pk], ensure_ascii=False).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"items": rows, "next": next_cursor}


@api.get("/customers/{customer_id}", response=CustomerOut)
def get_customer(request, customer_id: int):
    return get_object_or_404(customers(), pk=customer_id)
