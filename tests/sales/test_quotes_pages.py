"""The commercial pages: lists, details, forms and actions, each scoped like the API."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.sales import receivables
from guanxi.sales.models import Contract, ContractAttachment, Instalment, Payment, Quote
from tests.conftest import fresh
from tests.sales.test_quotes_fixtures import catalogue, make_contract, make_quote, signed_contract  # noqa: F401

D = Decimal


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_commercial_page_renders(users, customers, catalogue):
    quote = make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    contract = signed_contract(users.am1, customers.c1)
    client = client_for(users.am1)
    for url in (
        "/sales/",
        "/sales/products/",
        f"/sales/price-lists/{catalogue.general.pk}/",
        "/sales/quotes/",
        "/sales/quotes/new/",
        f"/sales/quotes/new/?customer={customers.c1.pk}",
        f"/sales/quotes/{quote.pk}/",
        f"/sales/quotes/{quote.pk}/edit/",
        "/sales/contracts/",
        "/sales/contracts/?expiring=400",
        "/sales/contracts/new/",
        f"/sales/contracts/{contract.pk}/",
        "/sales/receivables/",
        f"/customers/{customers.c1.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    home = client.get("/sales/").content.decode()
    for url in ("/sales/quotes/", "/sales/contracts/", "/sales/products/", "/sales/receivables/"):
        assert url in home
    detail = client.get(f"/customers/{customers.c1.pk}/").content.decode()
    assert quote.number in detail and contract.number in detail
    admin = client_for(users.bm1)
    for url in (
        "/sales/products/new/",
        f"/sales/products/{catalogue.widget.pk}/edit/",
        "/sales/price-lists/new/",
        f"/sales/price-lists/{catalogue.general.pk}/edit/",
    ):
        assert admin.get(url).status_code == 200, url
    assert client.get("/sales/products/new/").status_code == 403


def test_pages_of_another_scope_are_not_found(users, customers, catalogue, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    quote = make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    contract = make_contract(users.am1, customers.c1)
    client_for(users.am1).post(
        f"/sales/contracts/{contract.pk}/attach/", {"file": SimpleUploadedFile("a.txt", b"secret")}
    )
    attachment = ContractAttachment.objects.get()
    other = client_for(users.am2)
    for url in (
        f"/sales/quotes/{quote.pk}/",
        f"/sales/quotes/{quote.pk}/edit/",
        f"/sales/quotes/{quote.pk}/pdf/",
        f"/sales/contracts/{contract.pk}/",
        f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/",
    ):
        assert other.get(url).status_code == 404, url
    assert quote.number not in other.get("/sales/quotes/").content.decode()
    assert contract.number not in other.get("/sales/contracts/").content.decode()
    own = client_for(users.am1).get(f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/")
    assert b"".join(own.streaming_content) == b"secret"


def test_a_quote_goes_from_form_to_contract_through_the_pages(users, customers, catalogue):
    client = client_for(users.am1)
    response = client.post(
        "/sales/quotes/new/",
        {
            "customer_id": customers.c1.pk,
            "title": "页面报价",
            "product_id": [catalogue.widget.pk, ""],
            "quantity": ["2", ""],
            "unit_price": ["", ""],
            "discount_percent": ["0", "0"],
            "description": ["", ""],
        },
    )
    quote = Quote.objects.get(title="页面报价")
    assert response.status_code == 302 and quote.total == D("2260.00")
    for action in ("send", "accept"):
        quote.refresh_from_db()
        client.post(f"/sales/quotes/{quote.pk}/{action}/", {"version": quote.version})
    quote.refresh_from_db()
    assert quote.status == "accepted"
    response = client.post(
        f"/sales/quotes/{quote.pk}/contract/",
        {"version": quote.version, "start_date": "2026-01-01", "end_date": "2026-12-31"},
    )
    contract = Contract.objects.get(quote=quote)
    assert response.status_code == 302 and contract.value == D("2260.00")


def test_a_bad_quote_form_shows_the_error_and_saves_nothing(users, customers, catalogue):
    response = client_for(users.am1).post(
        "/sales/quotes/new/",
        {
            "customer_id": customers.c1.pk,
            "title": "坏",
            "product_id": [catalogue.widget.pk],
            "quantity": ["abc"],
            "unit_price": [""],
            "discount_percent": ["0"],
            "description": [""],
        },
    )
    assert response.status_code == 200 and not Quote.objects.filter(title="坏").exists()
    assert "lines.0.quantity" in response.content.decode()


def test_contract_pages_sign_plan_and_record_payments(users, customers):
    contract = make_contract(users.am1, customers.c1, D("100.00"))
    client = client_for(users.am1)
    client.post(f"/sales/contracts/{contract.pk}/sign/", {"version": 1, "signed_on": "2026-01-02"})
    contract.refresh_from_db()
    assert contract.status == "signed" and contract.signed_on == datetime.date(2026, 1, 2)
    client.post(f"/sales/contracts/{contract.pk}/activate/", {"version": contract.version})
    contract.refresh_from_db()
    client.post(
        f"/sales/contracts/{contract.pk}/plan/",
        {
            "version": contract.version,
            "due_date": ["2026-02-01", "2026-03-01", ""],
            "amount": ["40", "60", ""],
            "note": ["", "", ""],
        },
    )
    assert [i.amount for i in Instalment.objects.order_by("sequence")] == [D("40"), D("60")]
    first = Instalment.objects.get(sequence=1)
    client.post(
        f"/sales/contracts/{contract.pk}/payments/",
        {"instalment_id": first.pk, "amount": "40", "paid_on": "2026-02-01", "method": "transfer"},
    )
    assert Payment.objects.get().amount == D("40")
    response = client.post(
        f"/sales/contracts/{contract.pk}/payments/",
        {"instalment_id": first.pk, "amount": "1", "paid_on": "2026-02-01"},
        follow=True,
    )
    assert Payment.objects.count() == 1 and "amount" in response.content.decode()
    page = client.get("/sales/receivables/").content.decode()
    assert contract.number in page  # the second instalment is overdue
    assert receivables.overdue_instalments(user=fresh(users.am1))[0].sequence == 2


def test_price_list_and_product_forms(users, catalogue):
    client = client_for(users.bm1)
    response = client.post(
        "/sales/products/new/",
        {"code": "PG-1", "name": "页面产品", "kind": "service", "unit": "次", "tax_rate": "0.06", "active": "on"},
    )
    assert response.status_code == 302
    response = client.post(
        "/sales/price-lists/new/",
        {
            "name": "页面价目",
            "category_id": catalogue.industry.pk,  # the general list already prices the widget, open-ended
            "valid_from": "2030-01-01",
            "active": "on",
            "product_id": [catalogue.widget.pk, catalogue.service.pk],
            "unit_price": ["900", ""],
        },
    )
    assert response.status_code == 302
    from guanxi.sales.models import PriceList

    created = PriceList.objects.get(name="页面价目")
    assert [(i.product_id, i.unit_price) for i in created.items.all()] == [(catalogue.widget.pk, D("900"))]


def test_the_approve_buttons_show_only_to_whom_the_decision_is_open(users, customers, catalogue):
    from guanxi.sales import quotes

    quote = make_quote(
        users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1"), "discount_percent": D("25")}]
    )
    quotes.quote_request_approval(actor=fresh(users.am1), quote_id=quote.pk, version=quote.version)
    approve = f"/sales/quotes/{quote.pk}/approve/"

    def offered(user) -> bool:
        return approve in client_for(user).get(f"/sales/quotes/{quote.pk}/").content.decode()

    assert not offered(users.am1)  # the requester
    assert not offered(users.lead1)  # 25 % is above a team lead's own limit: quote_decide would refuse
    assert offered(users.bm1)
