"""Factories for the pipeline tests (leads, deals, call lists), all through the services."""

import itertools
from datetime import date
from decimal import Decimal

from guanxi.sales import deals_services, leads_services
from guanxi.sales.models import Pipeline, Stage
from tests.conftest import fresh

_serial = itertools.count(1)


def pipeline(code: str = "new-connection") -> Pipeline:
    return Pipeline.objects.get(code=code)


def stage(code: str, pipeline_code: str = "new-connection") -> Stage:
    return Stage.objects.get(pipeline__code=pipeline_code, code=code)


def make_lead(actor, **data):
    data.setdefault("company_name", f"线索公司{next(_serial):04d}")
    return leads_services.lead_create(actor=fresh(actor), data=data)


def make_deal(actor, customer, **data):
    data.setdefault("name", f"商机{next(_serial):04d}")
    data.setdefault("amount", Decimal("100000.00"))
    data.setdefault("expected_close", date(2027, 3, 15))
    return deals_services.opportunity_create(actor=fresh(actor), data={"customer_id": customer.pk, **data})


def count_queries(call) -> int:
    """How many queries `call()` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    return len(context)
