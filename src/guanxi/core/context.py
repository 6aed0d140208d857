"""Per-request facts that services need but should not take from views (the client's IP for the audit log)."""

from contextvars import ContextVar

client_ip: ContextVar[str | None] = ContextVar("guanxi_client_ip", default=None)
