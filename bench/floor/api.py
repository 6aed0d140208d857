"""The floor's endpoints: a keyset-paginated, filtered customer list and a customer detail (ORM values() rows, as
Guanxi), the replay of other reads' statements, and a customer create and update (the raw statements of
common.CustomerWrites)."""

import base64
import json
import os
from datetime import datetime
from typing import Any

from common import CustomerWrites
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import Http404
from ninja import NinjaAPI, Schema
from pydantic import BaseModel

from floor.models import Customer, Region

api = NinjaAPI(title="floor", docs_url=None)


class CustomerOut(BaseModel):
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


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next: str | None


# Rows from values(), as Guanxi's customer list and detail read them (customers.selectors.customer_rows).
FIELDS = (
    "id", "number", "name", "kind", "category_id", "region_id", "area", "address", "credit_code", "id_number",
    "parent_id", "stage", "grade", "vip", "sensitive", "owner_id", "org_unit_id", "created_at", "updated_at",
    "archived_at", "merged_into_id", "version",
)  # fmt: skip


def customers():
    return Customer.objects.values(
        *FIELDS,
        category_name=F("category__name"),
        region_name=F("region__name"),
        owner_username=F("owner__username"),
        owner_first_name=F("owner__first_name"),
        owner_last_name=F("owner__last_name"),
    )


def with_tags(rows: list[dict]) -> list[dict]:
    tags: dict[int, list[str]] = {}
    links = Customer.tags.through.objects.filter(customer_id__in=[row["id"] for row in rows])
    for customer_id, name in links.order_by("tag__name", "tag_id").values_list("customer_id", "tag__name"):
        tags.setdefault(customer_id, []).append(name)
    for row in rows:
        row["category"] = row.pop("category_name")
        row["region"] = row.pop("region_name")
        username, first, last = row.pop("owner_username"), row.pop("owner_first_name"), row.pop("owner_last_name")
        row["owner"] = (f"{first} {last}".strip() or username) if row["owner_id"] else None
        row["tags"] = tags.get(row["id"], [])
    return rows


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
    rows = with_tags(rows[:limit])
    next_cursor = None
    if more:
        raw = json.dumps([rows[-1]["name"], rows[-1]["id"]], ensure_ascii=False).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"items": rows, "next": next_cursor}


@api.get("/customers/{customer_id}", response=CustomerOut)
def get_customer(request, customer_id: int):
    rows = list(customers().filter(pk=customer_id))
    if not rows:
        raise Http404
    return with_tags(rows)[0]


# --------------------------------------------------------------------------------------------------------------------
# The other scenarios of bench/run.py. Reads (360 overview, search, timeline, kanban …) replay the data statements
# Guanxi ran for the same request, captured by run.py into the file named by $FLOOR_REPLAY: Django's request handling,
# one database cursor, ninja's JSON; no auth, scope, masking, ORM models or per-item schemas. Writes run the same
# statements as run.py's raw side (common.CustomerWrites) inside one transaction.

_replay: dict = {"mtime": None, "scenarios": {}}
_templates: dict = {}


def _replay_statements(scenario: str, index: int) -> list[str]:
    path = os.environ.get("FLOOR_REPLAY", "")
    mtime = os.stat(path).st_mtime if path and os.path.exists(path) else None
    if mtime != _replay["mtime"]:
        with open(path, encoding="utf-8") as handle:
            _replay["scenarios"] = json.load(handle)
        _replay["mtime"] = mtime
    per_request = _replay["scenarios"].get(scenario)
    if not per_request:
        raise Http404
    return per_request[index % len(per_request)]


class ReplayOut(Schema):
    results: list[list[list[Any]]]


@api.get("/replay/{scenario}", response=ReplayOut)
def replay(request, scenario: str, i: int = 0):
    results = []
    with connection.cursor() as cursor:
        for sql in _replay_statements(scenario, i):
            cursor.execute(sql)
            results.append([list(row) for row in cursor.fetchall()])
    return {"results": results}


def _writes() -> CustomerWrites:
    if "writes" not in _templates:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM customers_customer ORDER BY id LIMIT 1")
            names = [column[0] for column in cursor.description]
            template = dict(zip(names, cursor.fetchone(), strict=True))
        _templates["writes"] = CustomerWrites(template, sqlite=connection.vendor == "sqlite")
    return _templates["writes"]


def _execute(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


class CreateIn(Schema):
    name: str
    address: str
    branch: str
    actor_id: int


class UpdateIn(Schema):
    version: int
    address: str
    actor_id: int


class WrittenOut(Schema):
    id: int
    version: int
    number: str | None = None


@api.post("/customers", response={201: WrittenOut})
def create_customer(request, payload: CreateIn):
    with transaction.atomic():
        customer_id, number = _writes().run_create(
            _execute, branch=payload.branch, name=payload.name, address=payload.address, actor_id=payload.actor_id
        )
    return 201, {"id": customer_id, "version": 1, "number": number}


@api.patch("/customers/{customer_id}", response={200: WrittenOut, 409: WrittenOut})
def update_customer(request, customer_id: int, payload: UpdateIn):
    with transaction.atomic():
        version = _writes().run_update(
            _execute,
            customer_id=customer_id,
            version=payload.version,
            address=payload.address,
            actor_id=payload.actor_id,
        )
    if version is None:
        return 409, {"id": customer_id, "version": payload.version}
    return {"id": customer_id, "version": version}
