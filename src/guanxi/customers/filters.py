"""The customer list filter: one definition shared by the API, the pages and export."""

from typing import Literal

from django.db.models import Q, QuerySet
from pydantic import BaseModel, Field

from guanxi.core.tree import subtree_ids
from guanxi.customers.models import Category, Customer, Region

CustomerOrdering = Literal[
    "name", "-name", "number", "-number", "created_at", "-created_at", "updated_at", "-updated_at"
]


class CustomerFilters(BaseModel):
    q: str | None = Field(None, max_length=100, description="Name substring, customer number or credit code")
    category: int | None = Field(None, description="Category id; includes its sub-categories")
    region: int | None = Field(None, description="Region id; includes its sub-regions")
    grade: Customer.Grade | None = None
    stage: Customer.Stage | None = None
    kind: Customer.Kind | None = None
    owner: int | None = Field(None, description="Owner user id")
    vip: bool | None = None
    tag: str | None = Field(None, max_length=50)
    archived: bool = Field(False, description="true lists archived customers instead of live ones")

    def apply(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        queryset = queryset.filter(archived_at__isnull=not self.archived)
        if self.q:
            term = self.q.strip()
            queryset = queryset.filter(Q(name__icontains=term) | Q(number=term.upper()) | Q(credit_code=term.upper()))
        if self.category is not None:
            queryset = queryset.filter(category_id__in=subtree_ids(Category, self.category))
        if self.region is not None:
            queryset = queryset.filter(region_id__in=subtree_ids(Region, self.region))
        for field in ("grade", "stage", "kind", "vip"):
            value = getattr(self, field)
            if value is not None:
                queryset = queryset.filter(**{field: value})
        if self.owner is not None:
            queryset = queryset.filter(owner_id=self.owner)
        if self.tag:
            queryset = queryset.filter(tags__name=self.tag)
        return queryset
