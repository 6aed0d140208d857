"""Customer numbers for many customers at once, from the same per-branch CustomerSequence as next_customer_number."""

from django.db import connection, transaction

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
    # One statement creates the series or advances it and returns the new last number: the upsert locks the row
    # until the transaction ends (as SELECT … FOR UPDATE did, in three round trips).
    table = connection.ops.quote_name(CustomerSequence._meta.db_table)
    sql = (
        f"INSERT INTO {table} (branch_code, last) VALUES (%s, %s) "  # noqa: S608 - the table name is the model's
        f"ON CONFLICT (branch_code) DO UPDATE SET last = {table}.last + excluded.last RETURNING last"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [branch_code, count])
        last = cursor.fetchone()[0]
    first = last - count + 1
    return [f"C{branch_code}{serial:07d}" for serial in range(first, first + count)]
