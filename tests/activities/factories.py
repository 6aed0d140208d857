"""Activity factories for the activities tests (and anyone building on activities: calendar, visits, sales)."""

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity
from tests.conftest import fresh

_serial = itertools.count(1)
BASE = timezone.make_aware(datetime(2026, 3, 2, 9, 0), timezone.get_default_timezone())


def make_activity(actor, customer=None, **data) -> Activity:
    """An activity created through the service as `actor` (default: a planned visit on `customer`)."""
    data.setdefault("kind", Activity.Kind.VISIT)
    data.setdefault("subject", f"活动{next(_serial):04d}")
    if customer is not None:
        data.setdefault("customer_id", customer.pk)
    data.setdefault("planned_start", BASE + timedelta(hours=next(_serial)))
    return services.activity_create(actor=fresh(actor), data=data)
