from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from guanxi.core.schemas import READ, WRITE, ErrorOut
from guanxi.customers import duplicates, panels, selectors, services
from guanxi.customers.filters import CustomerFilters, CustomerOrdering
from guanxi.customers.schemas import (
    CategoryOut,
    ContactIn,
    ContactList,
    ContactOut,
    ContactPatch,
    CustomerCreatedOut,
    CustomerData,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    OverviewOut,
    RegionOut,
    TransferIn,
    TransferOut,
)

router = Router(tags=["customers"])


class CustomerListQuery(CustomerFilters):
    ordering: CustomerOrdering = "name"
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


@router.get("/customers", response={200: CustomerPage, **READ})
def list_customers(request: HttpRequest, query: Query[CustomerListQuery]):
    """Customers you may see, filtered and keyset-paginated: follow `next` for the following page."""
    filters = CustomerFilters(**query.model_dump(include=set(CustomerFilters.model_fields)))
    return selectors.customer_rows(
        user=request.user, filters=filters, ordering=query.ordering, cursor=query.cursor, limit=query.limit
    )


@router.post("/customers", response={201: CustomerCreatedOut, **WRITE})
def create_customer(request: HttpRequest, payload: CustomerIn):
    """Create a customer. `warnings` lists existing customers it looks like (POST /customers/duplicate-check asks
    before creating)."""
    customer = services.customer_create(actor=request.user, data=payload.model_dump(exclude_unset=True))
    created = selectors.customer_get(user=request.user, customer_id=customer.pk)
    created.warnings = duplicates.likely_duplicates_of(
        user=request.user, **duplicates.described_by(created), exclude_id=created.pk
    )
    return 201, created


@router.post("/customers/transfer", response={200: TransferOut, **WRITE})
def transfer_customers(request: HttpRequest, payload: TransferIn):
    """Move all (or the listed) customers of one owner to another, e.g. when a manager leaves (A5)."""
    count = services.customer_transfer(
        actor=request.user,
        from_user_id=payload.from_user_id,
        to_user_id=payload.to_user_id,
        customer_ids=payload.customer_ids,
    )
    return {"transferred": count}


@router.get("/customers/{customer_id}", response={200: CustomerData, **READ})
def get_customer(request: HttpRequest, customer_id: int):
    return selectors.customer_row(user=request.user, customer_id=customer_id)


@router.get("/customers/{customer_id}/overview", response={200: OverviewOut, **READ})
def customer_overview(request: HttpRequest, customer_id: int):
    """The 360 view in one call: the customer and one key per panel the user has chosen (or all with ?panels=all)."""
    customer = selectors.customer_get(user=request.user, customer_id=customer_id)
    chosen = panels.all_panels() if request.GET.get("panels") == "all" else panels.chosen_panels(request.user)
    return {"customer": customer, "panels": panels.panel_data(user=request.user, customer=customer, panels=chosen)}


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **WRITE})
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    # The service read the customer through customer_get and keeps it current (changed references reload, tags
    # are set through the manager): reading it again cost a second query pair per update.
    return services.customer_update(actor=request.user, customer_id=customer_id, version=version, data=data)


@router.delete("/customers/{customer_id}", response={200: CustomerOut, **WRITE})
def archive_customer(request: HttpRequest, customer_id: int, version: int | None = None):
    """Archive (soft delete). Pass `?version=` to refuse archiving a customer changed since you read it."""
    services.customer_archive(actor=request.user, customer_id=customer_id, version=version)
    return selectors.customer_get(user=request.user, customer_id=customer_id)


@router.post("/customers/{customer_id}/restore", response={200: CustomerOut, **WRITE})
def restore_customer(request: HttpRequest, customer_id: int, version: int | None = None):
    services.customer_restore(actor=request.user, customer_id=customer_id, version=version)
    return selectors.customer_get(user=request.user, customer_id=customer_id)


@router.get("/customers/{customer_id}/contacts", response={200: ContactList, **READ})
def list_contacts(request: HttpRequest, customer_id: int):
    return {"items": selectors.contacts_of_customer(user=request.user, customer_id=customer_id), "next": None}


@router.post("/customers/{customer_id}/contacts", response={201: ContactOut, **WRITE})
def create_contact(request: HttpRequest, customer_id: int, payload: ContactIn):
    contact = services.contact_create(
        actor=request.user, customer_id=customer_id, data=payload.model_dump(exclude_unset=True)
    )
    return 201, contact


@router.get("/contacts/{contact_id}", response={200: ContactOut, **READ})
def get_contact(request: HttpRequest, contact_id: int):
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE})
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.contact_update(actor=request.user, contact_id=contact_id, version=version, data=data)


@router.delete("/contacts/{contact_id}", response={204: None, **WRITE})
def delete_contact(request: HttpRequest, contact_id: int):
    services.contact_delete(actor=request.user, contact_id=contact_id)
    return 204, None


@router.get("/categories", response={200: list[CategoryOut], 401: ErrorOut})
def list_categories(request: HttpRequest):
    return selectors.category_list()


@router.get("/regions", response={200: list[RegionOut], 401: ErrorOut, 422: ErrorOut})
def list_regions(request: HttpRequest, parent: int | None = None, level: str | None = None):
    # Evaluated here, not while serialising: a database error (parent too large for an integer) then answers 422.
    return list(selectors.region_list(parent=parent, level=level))
