"""API of duplicate detection and merge (A4). Mounted before the customers router, so /customers/duplicates is not
taken for /customers/{customer_id}."""

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.core.schemas import READ, WRITE
from guanxi.customers import duplicates, merge, selectors
from guanxi.customers.schemas import DuplicateCheckIn, DuplicateMatchList, DuplicatePage, MergeIn, MergeOut

router = Router(tags=["customers"])


class DuplicateQuery(Schema):
    reason: Literal["credit_code", "name", "phone", "similar_name"] | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


@router.get("/customers/duplicates", response={200: DuplicatePage, **READ})
def list_duplicates(request: HttpRequest, query: Query[DuplicateQuery]):
    """Duplicate candidates: pairs of customers you may both see, each with a reason and a score, by reason. Follow
    `next`; a page may hold fewer than `limit` pairs while `next` is set (each page examines a bounded number of
    customers)."""
    return duplicates.duplicate_pairs(user=request.user, reason=query.reason, cursor=query.cursor, limit=query.limit)


@router.post("/customers/duplicate-check", response={200: DuplicateMatchList, **READ})
def check_duplicates(request: HttpRequest, payload: DuplicateCheckIn):
    """Existing customers (yours to see, archived included) that look like the one described: call it before
    creating, as the web form does. POST /customers answers the same list in `warnings` after creating."""
    return {"items": duplicates.likely_duplicates_of(user=request.user, **payload.model_dump())}


@router.post("/customers/{customer_id}/merge", response={200: MergeOut, **WRITE})
def merge_customer(request: HttpRequest, customer_id: int, payload: MergeIn):
    """Merge `merged_id` into this customer (the survivor): its contacts, members and other records move here, it
    stays as an archived tombstone with `merged_into_id`. 409 when a version is stale or either was merged already."""
    result = merge.customer_merge(
        actor=request.user,
        survivor_id=customer_id,
        merged_id=payload.merged_id,
        survivor_version=payload.version,
        merged_version=payload.merged_version,
        fields=payload.fields,
    )
    return {
        "customer": selectors.customer_get(user=request.user, customer_id=result.survivor.pk),
        "merged": selectors.customer_get(user=request.user, customer_id=result.merged.pk),
        "moved": result.moved,
    }
