"""Products, price lists and the price lookup (C3)."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.errors import StaleVersion
from guanxi.customers.models import Category
from guanxi.sales import products
from guanxi.sales.models import PriceList, Product
from tests.conftest import audit_count, errors_by_field, fresh, make_customer
from tests.sales.test_quotes_fixtures import catalogue  # noqa: F401

D = Decimal


def test_it_seeds_utility_tariffs(db):
    two_part = Product.objects.filter(code__in=["T-LI-E10", "T-LI-CAP", "T-LI-DEM"])
    assert {p.kind for p in two_part} == {"tariff"}
    assert PriceList.objects.filter(name="2026年 大工业目录电价", category__code="P-LI").exists()


def test_price_for_prefers_the_customers_category_then_every_category(users, catalogue):
    industrial = make_customer(users.am1, category_id=catalogue.industry.pk)
    other = make_customer(users.am1)
    day = datetime.date(2026, 6, 1)
    assert products.price_for(catalogue.tariff, industrial, day) == D("0.6231")
    assert products.price_for(catalogue.tariff, other, day) == D("0.7000")
    # After the 大工业 list ends, the general list applies again; before any list, nothing does.
    assert products.price_for(catalogue.tariff, industrial, datetime.date(2027, 1, 1)) == D("0.7000")
    assert products.price_for(catalogue.tariff, industrial, datetime.date(2025, 12, 31)) is None


def test_price_for_walks_up_the_category_tree(users, catalogue):
    parent = Category.objects.get(code="P-GCI")
    child = Category.objects.get(code="P-GCI-COM")
    products.price_list_create(
        actor=fresh(users.admin),
        data={
            "name": "一般工商业",
            "category_id": parent.pk,
            "valid_from": datetime.date(2026, 1, 1),
            "items": [{"product_id": catalogue.tariff.pk, "unit_price": D("0.6984")}],
        },
    )
    shop = make_customer(users.am1, category_id=child.pk)
    assert products.price_for(catalogue.tariff, shop, datetime.date(2026, 3, 1)) == D("0.6984")


def test_overlapping_periods_for_the_same_product_and_category_are_refused(users, catalogue, api):
    response = api(users.admin).post(
        "/price-lists",
        {
            "name": "重叠",
            "category_id": catalogue.industry.pk,
            "valid_from": "2026-06-01",
            "items": [{"product_id": catalogue.tariff.pk, "unit_price": "0.6"}],
        },
    )
    assert response.status_code == 422
    assert "valid_from" in errors_by_field(response)
    assert not PriceList.objects.filter(name="重叠").exists()
    # The day after the 大工业 list ends is free.
    response = api(users.admin).post(
        "/price-lists",
        {
            "name": "2027",
            "category_id": catalogue.industry.pk,
            "valid_from": "2027-01-01",
            "items": [{"product_id": catalogue.tariff.pk, "unit_price": "0.6"}],
        },
    )
    assert response.status_code == 201, response.content


def test_extending_a_list_into_another_is_refused(users, catalogue):
    later = products.price_list_create(
        actor=fresh(users.admin),
        data={
            "name": "2027",
            "category_id": catalogue.industry.pk,
            "valid_from": datetime.date(2027, 1, 1),
            "items": [{"product_id": catalogue.tariff.pk, "unit_price": D("0.6")}],
        },
    )
    with pytest.raises(ValidationError) as error:
        products.price_list_update(
            actor=fresh(users.admin),
            price_list_id=catalogue.industrial.pk,
            version=catalogue.industrial.version,
            data={"valid_to": None},
        )
    assert "valid_from" in error.value.message_dict
    assert PriceList.objects.get(pk=catalogue.industrial.pk).valid_to == datetime.date(2026, 12, 31)
    assert later.pk


def test_bad_product_input_names_the_field(users, catalogue, api):
    client = api(users.admin)
    assert "code" in errors_by_field(client.post("/products", {"code": "TST-P", "name": "x", "unit": "台"}))
    assert "tax_rate" in errors_by_field(
        client.post("/products", {"code": "N1", "name": "x", "unit": "台", "tax_rate": "1.5"})
    )
    response = client.post("/price-lists", {"name": "x", "valid_from": "2026-02-01", "valid_to": "2026-01-01"})
    assert response.status_code == 422 and "valid_to" in errors_by_field(response)
    response = client.post(
        "/price-lists", {"name": "x", "valid_from": "2026-02-01", "items": [{"product_id": 999999, "unit_price": "1"}]}
    )
    assert "items.0.product_id" in errors_by_field(response)


def test_product_update_is_versioned_and_audited(users, catalogue, api):
    client = api(users.bm1)
    response = client.patch(f"/products/{catalogue.widget.pk}", {"version": 1, "name": "新名称"})
    assert response.status_code == 200 and response.json()["version"] == 2
    assert audit_count(object_type="sales.product", action="update") == 1
    stale = client.patch(f"/products/{catalogue.widget.pk}", {"version": 1, "name": "再改"})
    assert stale.status_code == 409
    with pytest.raises(StaleVersion):
        products.product_update(actor=fresh(users.bm1), product_id=catalogue.widget.pk, version=1, data={"name": "x"})


def test_account_managers_read_but_cannot_change_the_catalogue(users, catalogue, api):
    client = api(users.am1)
    assert client.get("/products").status_code == 200
    assert client.post("/products", {"code": "X", "name": "x", "unit": "台"}).status_code == 403
    assert client.get(f"/products/{catalogue.tariff.pk}/price").json()["unit_price"] == "0.7000"


def test_price_endpoint_respects_customer_scope(users, catalogue, api):
    theirs = make_customer(users.am2, category_id=catalogue.industry.pk)
    assert api(users.am1).get(f"/products/{catalogue.tariff.pk}/price", {"customer_id": theirs.pk}).status_code == 404
    response = api(users.am2).get(
        f"/products/{catalogue.tariff.pk}/price", {"customer_id": theirs.pk, "on_date": "2026-05-01"}
    )
    assert response.json()["unit_price"] == "0.6231"


def test_the_back_office_lists_the_commercial_models(users, catalogue):
    from django.test import Client

    users.admin.is_staff = True
    users.admin.save()
    client = Client()
    client.force_login(users.admin)
    for model in ("product", "pricelist", "contracttemplate", "quote", "contract", "instalment", "payment"):
        assert client.get(f"/admin/sales/{model}/").status_code == 200, model
    assert client.get(f"/admin/sales/pricelist/{catalogue.general.pk}/change/").status_code == 200
