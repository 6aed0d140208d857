"""API shapes shared by quotes and contracts: the version a write carries, and a customer's document with its owner."""

from datetime import datetime

from ninja import Schema


class VersionIn(Schema):
    version: int


class CustomerDocumentOut(Schema):
    """Fields every quote and contract answers with: its customer, its owner, currency and version."""

    customer_id: int
    customer_name: str
    owner_id: int
    owner: str
    currency: str
    created_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.owner.username
