"""Ticket factories and a clock for the service tests."""

import itertools
from datetime import datetime

from django.utils import timezone

from guanxi.service import services
from guanxi.service.models import Ticket
from tests.conftest import fresh

_serial = itertools.count(1)
SHANGHAI = timezone.get_default_timezone()


def at(*args) -> datetime:
    """An aware Asia/Shanghai datetime: at(2026, 3, 2, 9, 0)."""
    return timezone.make_aware(datetime(*args), SHANGHAI)


def make_ticket(actor, customer=None, **data) -> Ticket:
    """A ticket recorded through the service by `actor` (default: a normal-priority consultation of `customer`)."""
    data.setdefault("channel", Ticket.Channel.HOTLINE)
    data.setdefault("ticket_type", "consultation")
    data.setdefault("subject", f"工单{next(_serial):04d}")
    if customer is not None:
        data.setdefault("customer_id", customer.pk)
    else:
        data.setdefault("caller_name", "张先生")
        data.setdefault("caller_phone", "13912345678")
    return services.ticket_create(actor=fresh(actor), data=data)


def move(ticket: Ticket, actor, *actions: str, **extra) -> Ticket:
    """Run transitions in order as `actor` (resolve gets a default resolution)."""
    for action in actions:
        ticket.refresh_from_db()
        kwargs = dict(extra)
        if action == "resolve":
            kwargs.setdefault("resolution", "已处理")
        if action == "reopen":
            kwargs.setdefault("note", "客户不满意")
        ticket = services.ticket_transition(
            actor=fresh(actor), ticket_id=ticket.pk, version=ticket.version, action=action, **kwargs
        )
    return ticket


class Clock:
    """Freezes django.utils.timezone.now (services, auto_now fields) at a moment the test moves."""

    def __init__(self, monkeypatch, start: datetime):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: datetime) -> None:
        self.now = moment


def ensure_reference_data() -> None:
    """Transactional tests: an earlier transactional test in a full run may have flushed the seeded ticket types,
    SLA targets and return-visit rules (migration data), which ticket creation needs; put them back."""
    from importlib import import_module

    from django.apps import apps

    from guanxi.service import reference_data
    from guanxi.service.models import ReturnVisitRule, SlaTarget, TicketType

    if not (TicketType.objects.exists() and SlaTarget.objects.exists()):
        reference_data.unseed(apps)
        reference_data.seed(apps)
    if not ReturnVisitRule.objects.exists():
        import_module("guanxi.service.migrations.0004_return_visits").seed_rules(apps, None)
