"""Export endpoints of the customer list and of contacts (router tag "customers")."""

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from guanxi.core.schemas import ErrorOut
from guanxi.customers import export, selectors
from guanxi.customers.filters import CustomerFilters

router = Router(tags=["customers"])


class ExportQuery(CustomerFilters):
    format: Literal["csv", "xlsx", "vcf"] = Field("csv", description="csv or xlsx: the customers; vcf: their contacts")


@router.get("/customers/export", response={200: None, 401: ErrorOut, 422: ErrorOut})
def export_customers(request: HttpRequest, query: Query[ExportQuery]):
    """The filtered customer list (same filters as GET /customers) as CSV or XLSX, or its contacts as vCard. Only
    customers you may see; phones and ID numbers masked as they are for you everywhere else."""
    filters = CustomerFilters(**query.model_dump(include=set(CustomerFilters.model_fields)))
    return export.response(user=request.user, filters=filters, fmt=query.format)


@router.get("/customers/{customer_id}/contacts.vcf", response={200: None, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def customer_contacts_vcard(request: HttpRequest, customer_id: int):
    """The customer's contacts as one vCard file (404 if the customer is not visible to you)."""
    contacts = selectors.contacts_of_customer(user=request.user, customer_id=customer_id).select_related("customer")
    return export.vcard_response(user=request.user, contacts=contacts, name=f"customer-{customer_id}-contacts.vcf")
