"""Shared data for the commercial sales tests (products, quotes, contracts, receivables); no tests here."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from guanxi.customers.models import Category
from guanxi.sales import contracts, products, quotes
from tests.conftest import fresh

D = Decimal
TODAY = datetime.date(2026, 6, 15)
VALUE = D("120000.00")


@pytest.fixture
def catalogue(users):
    """Three products and a price list for 大工业 plus one for every category (all valid from 2026-01-01)."""
    admin = fresh(users.admin)
    widget = products.product_create(
        actor=admin, data={"code": "TST-P", "name": "测试设备", "unit": "台", "tax_rate": D("0.13")}
    )
    service = products.product_create(
        actor=admin,
        data={"code": "TST-S", "name": "运维服务", "unit": "年", "tax_rate": D("0.06"), "kind": "service"},
    )
    tariff = products.product_create(
        actor=admin,
        data={"code": "TST-T", "name": "大工业电度电价", "unit": "千瓦时", "tax_rate": D("0.13"), "kind": "tariff"},
    )
    industry = Category.objects.get(code="P-LI")
    general = products.price_list_create(
        actor=admin,
        data={
            "name": "通用价目",
            "valid_from": datetime.date(2026, 1, 1),
            "items": [
                {"product_id": widget.pk, "unit_price": D("1000")},
                {"product_id": service.pk, "unit_price": D("36000")},
                {"product_id": tariff.pk, "unit_price": D("0.7000")},
            ],
        },
    )
    industrial = products.price_list_create(
        actor=admin,
        data={
            "name": "大工业价目",
            "category_id": industry.pk,
            "valid_from": datetime.date(2026, 1, 1),
            "valid_to": datetime.date(2026, 12, 31),
            "items": [{"product_id": tariff.pk, "unit_price": D("0.6231")}],
        },
    )
    return SimpleNamespace(
        widget=widget, service=service, tariff=tariff, industry=industry, general=general, industrial=industrial
    )


def make_quote(user, customer, lines=None, **data):
    data.setdefault("title", "测试报价")
    return quotes.quote_create(actor=fresh(user), data={"customer_id": customer.pk, "lines": lines or [], **data})


def sent_quote(user, customer, product, discount=None):
    quote = make_quote(
        user, customer, [{"product_id": product.pk, "quantity": D("2"), "discount_percent": discount or D("0")}]
    )
    return quotes.quote_send(actor=fresh(user), quote_id=quote.pk, version=quote.version)


def make_contract(user, customer, value=VALUE, **data):
    data.setdefault("title", "供用电合同")
    data.setdefault("start_date", datetime.date(2026, 1, 1))
    data.setdefault("end_date", datetime.date(2026, 12, 31))
    return contracts.contract_create(actor=fresh(user), data={"customer_id": customer.pk, "value": value, **data})


def signed_contract(user, customer, value=VALUE, **data):
    contract = make_contract(user, customer, value, **data)
    contract = contracts.contract_transition(
        actor=fresh(user), contract_id=contract.pk, version=contract.version, to="signed"
    )
    return contracts.contract_transition(
        actor=fresh(user), contract_id=contract.pk, version=contract.version, to="active"
    )
