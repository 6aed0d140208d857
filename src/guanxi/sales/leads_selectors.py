"""Every read of leads, already narrowed to what the user may see (owner / team / branch / all)."""

from django.db.models import Q, QuerySet
from django.http import Http404
from pydantic import BaseModel, Field

from guanxi.core.models import OrgUnit
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.scope import restrict
from guanxi.core.tree import subtree_ids
from guanxi.customers.validators import normalize_mobile
from guanxi.sales.models import Lead

LEAD_ORDERINGS = ("-created_at", "created_at", "company_name", "-updated_at")


class LeadFilters(BaseModel):
    """The lead list filter, shared by the page and the API."""

    q: str | None = Field(None, max_length=100, description="Company or contact name substring, or a mobile")
    status: Lead.Status | None = None
    source: Lead.Source | None = None
    owner: int | None = Field(None, description="Owner user id")
    team: int | None = Field(None, description="Organisation unit id; includes its sub-units")
    unassigned: bool | None = Field(None, description="true: only leads without an owner")

    def apply(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        if self.q:
            term = self.q.strip()
            condition = Q(company_name__icontains=term) | Q(contact_name__icontains=term)
            phone = normalize_mobile(term)
            if phone.isdigit() and len(phone) == 11:
                condition |= Q(mobile=phone)
            queryset = queryset.filter(condition)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.source:
            queryset = queryset.filter(source=self.source)
        if self.owner is not None:
            queryset = queryset.filter(owner_id=self.owner)
        if self.team is not None:
            queryset = queryset.filter(org_unit_id__in=subtree_ids(OrgUnit, self.team))
        if self.unassigned:
            queryset = queryset.filter(owner__isnull=True)
        return queryset


def lead_queryset(*, user) -> QuerySet[Lead]:
    """All leads `user` may see."""
    return restrict(Lead.objects.all(), user)


def lead_list(
    *, user, filters: LeadFilters, ordering: str = "-created_at", cursor: str | None = None, limit: int = 50
) -> Page:
    queryset = filters.apply(lead_queryset(user=user)).select_related("owner", "org_unit", "customer")
    return keyset_page(queryset, ordering=ordering, cursor=cursor, limit=limit)


def lead_get(*, user, lead_id: int) -> Lead:
    """One lead; 404 when absent or outside the user's scope."""
    lead = (
        lead_queryset(user=user)
        .select_related("owner", "org_unit", "customer", "contact", "opportunity", "created_by")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise Http404
    return lead


def lead_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and lead_queryset(user=user).filter(pk=int(object_id)).exists()


def leads_by_mobile(*, user, mobile: str, limit: int = 10) -> list[Lead]:
    """Open leads with this mobile (the telephony screen pop for an unknown customer number)."""
    phone = normalize_mobile(mobile)
    if not phone:
        return []
    return list(lead_queryset(user=user).filter(mobile=phone).exclude(status=Lead.Status.CONVERTED)[:limit])
