"""Customer numbers for many customers at once, from the same per-branch CustomerSequence as next_customer_number."""

from django.db import transaction

from guanxi.core.models import OrgUnit
from guanxi.customers.models import CustomerSequence


def series_code(unit: OrgUnit | None) -> str:
    """The numbering series of a customer owned by `unit`: its branch's code, else the unit's own, else 00."""
    if unit is None:
        return "00"
    branch = unit.branch()
    return branch.code if branch else unit.code


def reserve_customer_numbers(branch_code: str, count: int) -> list[str]:
    """`count` consecutive numbers of a branch's series, C + code + 7 digits (as services.next_customer_number).

    The sequence row stays locked until the caller's transaction ends, so the numbers are gap-free and no other
    writer can take them; call it inside the transaction that saves the customers.
    """
    if count <= 0:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_customer_numbers() must run inside the transaction that saves the customers")
    CustomerSequence.objects.bulk_create([CustomerSequence(branch_code=branch_code)], ignore_conflicts=True)
    sequence = CustomerSequence.objects.select_for_update().get(branch_code=branch_code)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return [f"C{branch_code}{serial:07d}" for serial in range(first, first + count)]
