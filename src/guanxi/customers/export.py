"""Export of the customer list (CSV, XLSX) and of contacts (vCard): scoped, filtered and masked like the list itself.

The columns carry the import's labels, so an exported file imports again: unchanged rows stay unchanged (for roles
that see unmasked values; a masked ID number is not a valid one).
"""

import csv
import tempfile
from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from guanxi.core.masking import id_number_for, phone_for
from guanxi.core.spreadsheets import csv_cell, xlsx_row
from guanxi.customers import selectors
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.import_rows import CUSTOMER_FIELDS
from guanxi.customers.models import Contact, Customer, Tag
from guanxi.customers.vcard import contact_vcard

FORMATS = ("csv", "xlsx", "vcf")
CHUNK = 2000
# Import fields in export order; contact columns describe the primary contact.
COLUMNS = [
    "number",
    "name",
    "kind",
    "category",
    "region",
    "area",
    "address",
    "credit_code",
    "id_number",
    "stage",
    "grade",
    "vip",
    "tags",
    "owner",
    "contact_name",
    "contact_mobile",
    "contact_landline",
    "contact_email",
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_customers(*, user, filters: CustomerFilters) -> QuerySet[Customer]:
    """The customers of the filtered list the user may see, with what the columns need, in list order."""
    primary = Contact.objects.filter(primary=True).only("id", "customer_id", "name", "mobile", "landline", "email")
    return (
        filters.apply(selectors.customer_queryset(user=user))
        .select_related("category", "region", "owner")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name")),
            Prefetch("contacts", queryset=primary, to_attr="primary_contacts"),
        )
        .order_by("name", "id")
    )


def headers() -> list[str]:
    labels = {field.key: str(field.label) for field in CUSTOMER_FIELDS}
    return [labels[key] for key in COLUMNS]


def rows(*, user, filters: CustomerFilters) -> Iterator[list]:
    """One list of cell values per customer; phones and ID numbers masked for roles that see them masked."""
    kinds, areas = dict(Customer.Kind.choices), dict(Customer.Area.choices)
    stages, grades = dict(Customer.Stage.choices), dict(Customer.Grade.choices)
    yes, no = _("Yes"), _("No")
    for customer in export_customers(user=user, filters=filters).iterator(chunk_size=CHUNK):
        contact = customer.primary_contacts[0] if customer.primary_contacts else None
        owner = customer.owner
        yield [
            customer.number,
            customer.name,
            str(kinds.get(customer.kind, customer.kind)),
            customer.category.name if customer.category_id else "",
            customer.region.name if customer.region_id else "",
            str(areas.get(customer.area, customer.area)),
            customer.address,
            customer.credit_code or "",
            id_number_for(user, customer.id_number) if customer.id_number else "",
            str(stages.get(customer.stage, customer.stage)),
            str(grades.get(customer.grade, customer.grade)),
            yes if customer.vip else no,
            ", ".join(sorted(tag.name for tag in customer.tags.all())),
            (owner.get_full_name() or owner.username) if owner else "",
            contact.name if contact else "",
            phone_for(user, contact.mobile) if contact else "",
            phone_for(user, contact.landline) if contact else "",
            contact.email if contact else "",
        ]


def filename(extension: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


def csv_response(*, user, filters: CustomerFilters) -> StreamingHttpResponse:
    """Streamed as it is read (any size, constant memory); UTF-8 with a BOM so Excel shows Chinese correctly."""

    class Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Line())

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(headers())
        for values in rows(user=user, filters=filters):
            yield writer.writerow([csv_cell(value) for value in values])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename("csv")}"'
    return response


def xlsx_response(*, user, filters: CustomerFilters) -> FileResponse:
    """Written row by row (openpyxl write-only mode) to a temporary file, then sent."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.append(xlsx_row(sheet, headers()))
    for values in rows(user=user, filters=filters):
        sheet.append(xlsx_row(sheet, values))
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename("xlsx"), content_type=XLSX_TYPE)


def vcard_response(*, user, contacts, name: str) -> StreamingHttpResponse:
    """vCard 3.0 of each contact (masked as contact_vcard does), one file."""

    def stream() -> Iterator[str]:
        for contact in contacts.iterator(chunk_size=CHUNK):
            yield contact_vcard(user=user, contact=contact)

    response = StreamingHttpResponse(stream(), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def customer_contacts(*, user, filters: CustomerFilters) -> QuerySet[Contact]:
    """Contacts of the customers of the filtered list, scoped like the list."""
    customers = filters.apply(selectors.customer_queryset(user=user))
    return (
        Contact.objects.filter(customer__in=customers.values("pk"))
        .select_related("customer")
        .order_by("customer__name", "customer_id", "-primary", "name", "id")
    )


def response(*, user, filters: CustomerFilters, fmt: str):
    """The export of the filtered list in `fmt` (csv, xlsx, or vcf for the customers' contacts)."""
    if fmt == "xlsx":
        return xlsx_response(user=user, filters=filters)
    if fmt == "vcf":
        return vcard_response(user=user, contacts=customer_contacts(user=user, filters=filters), name=filename("vcf"))
    return csv_response(user=user, filters=filters)
