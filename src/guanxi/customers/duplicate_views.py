"""Pages of duplicate detection and merge (A4): the candidate list, the side-by-side merge page, tombstone redirects."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.masking import id_number_for
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.customers import duplicates, merge, selectors
from guanxi.customers.models import Customer


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Candidate pairs the user may see, by reason, with a link to merge each pair."""
    reason = request.GET.get("reason") if request.GET.get("reason") in duplicates.REASONS else None
    try:
        page = duplicates.duplicate_pairs(user=request.user, reason=reason, cursor=request.GET.get("cursor"))
    except BadCursor:
        page = duplicates.duplicate_pairs(user=request.user, reason=reason)
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next:
        query["cursor"] = page.next
    context = {
        "page": page,
        "reason": reason or "",
        "reasons": [(key, duplicates.REASON_LABELS[key]) for key in duplicates.REASONS],
        "next_query": query.urlencode() if page.next else None,
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "customers/_duplicate_rows.html", context)
    return render(request, "customers/duplicates.html", context)


@dataclass
class FieldRow:
    """One line of the merge page: a field, both values as shown, and the side ticked by default."""

    field: str
    label: str
    survivor: str
    merged: str
    choice: str

    @property
    def differs(self) -> bool:
        return self.survivor != self.merged


@login_required
def customer_merge(request: HttpRequest, customer_id: int, other_id: int) -> HttpResponse:
    """Merge `other_id` into `customer_id` (the survivor), choosing per field whose value stays."""
    require(request.user, "customers.change_customer")
    survivor = selectors.customer_get(user=request.user, customer_id=customer_id)
    merged = selectors.customer_get(user=request.user, customer_id=other_id)
    errors: list[str] = []
    if request.method == "POST":
        fields = {
            field: request.POST[f"field_{field}"]
            for field in (*merge.MERGE_FIELDS, merge.PRIMARY_CONTACT)
            if request.POST.get(f"field_{field}") in (merge.SURVIVOR, merge.MERGED)
        }
        try:
            merge.customer_merge(
                actor=request.user,
                survivor_id=survivor.pk,
                merged_id=merged.pk,
                survivor_version=int(request.POST.get("version") or 0),
                merged_version=int(request.POST.get("merged_version") or 0),
                fields=fields,
            )
        except StaleVersion:
            messages.error(request, str(StaleVersion.message))
            return redirect("customers:merge", survivor.pk, merged.pk)
        except (Conflict, PermissionDenied) as exc:
            errors.append(str(exc))
        except ValidationError as exc:
            errors.extend(f"{field}: {message}" for field, items in exc.message_dict.items() for message in items)
        else:
            messages.success(
                request,
                _("Customer %(merged)s was merged into %(survivor)s.")
                % {"merged": merged.number, "survivor": survivor.number},
            )
            return redirect("customers:detail", survivor.pk)
    primaries = {
        side: customer.contacts.filter(primary=True).first() for side, customer in (("s", survivor), ("m", merged))
    }
    context = {
        "survivor": survivor,
        "merged": merged,
        "rows": _field_rows(request.user, survivor, merged),
        "primaries": primaries,
        "contact_counts": (survivor.contacts.count(), merged.contacts.count()),
        "tags": sorted({tag.name for customer in (survivor, merged) for tag in customer.tags.all()}),
        "errors": errors,
    }
    return render(request, "customers/merge.html", context)


def tombstone_redirect(request: HttpRequest, customer: Customer) -> HttpResponse | None:
    """The page of a merged customer leads to the survivor, so old links and numbers still work."""
    if not customer.merged_into_id:
        return None
    survivor = duplicates.survivor_of(user=request.user, customer=customer)
    if survivor is None:
        messages.info(request, _("This customer was merged into another customer you cannot see."))
        return None
    names = {"merged": customer.number, "survivor": survivor.number}
    messages.info(request, _("Customer %(merged)s was merged into %(survivor)s.") % names)
    return redirect(reverse("customers:detail", args=[survivor.pk]))


def _field_rows(user, survivor: Customer, merged: Customer) -> list[FieldRow]:
    return [
        FieldRow(
            field=field,
            label=str(Customer._meta.get_field(field.removesuffix("_id")).verbose_name),
            survivor=_shown(user, survivor, field),
            merged=_shown(user, merged, field),
            choice=merge.default_choice(field, survivor, merged),
        )
        for field in merge.MERGE_FIELDS
    ]


def _shown(user, customer: Customer, field: str) -> str:
    """A field's value as the user reads it: names for references, labels for choices, masked ID numbers."""
    value = getattr(customer, field)
    if value in (None, ""):
        return "—"
    if field in ("category_id", "region_id", "owner_id", "parent_id"):
        related = getattr(customer, field.removesuffix("_id"))
        if field == "owner_id":
            return related.get_full_name() or related.username
        return str(related)
    if field == "id_number":
        return id_number_for(user, value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    display = getattr(customer, f"get_{field}_display", None)
    return str(display()) if display else str(value)
