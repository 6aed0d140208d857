"""Quotes (C4): line arithmetic, approval of discounts above the limit, revisions, states, scope, bad input."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.models import AuditLog
from guanxi.sales import quotes
from guanxi.sales.models import Quote, QuoteLine
from guanxi.sales.quotes_pricing import line_amounts, totals
from tests.conftest import errors_by_field, fresh, make_customer
from tests.sales.test_quotes_fixtures import catalogue, make_quote, sent_quote  # noqa: F401

D = Decimal
CENT = D("0.01")

quantities = st.decimals(min_value=D("0.001"), max_value=D("99999999"), places=3)
prices = st.decimals(min_value=D("0"), max_value=D("9999999"), places=4)
discounts = st.decimals(min_value=D("0"), max_value=D("100"), places=2)
rates = st.sampled_from([D("0"), D("0.03"), D("0.06"), D("0.09"), D("0.13")])


@given(quantities, prices, discounts, rates)
def test_line_amounts_are_rounded_half_up_and_add_up(quantity, price, discount, rate):
    line = line_amounts(quantity, price, discount, rate)
    exact = quantity * price
    assert line.list_amount == exact.quantize(CENT, ROUND_HALF_UP)
    assert abs(line.list_amount - exact) <= D("0.005")
    assert line.net_amount + line.discount_amount == line.list_amount
    assert line.total == line.net_amount + line.tax_amount
    assert line.tax_amount == (line.net_amount * rate).quantize(CENT, ROUND_HALF_UP)
    assert all(value == value.quantize(CENT) for value in line.__dict__.values())
    assert D("0") <= line.net_amount <= line.list_amount


@given(st.lists(st.tuples(quantities, prices, discounts, rates), min_size=1, max_size=8))
def test_quote_totals_are_sums_of_rounded_lines(rows):
    lines = [line_amounts(*row) for row in rows]
    summed = totals(lines)
    assert summed.total == sum(line.total for line in lines)
    assert summed.subtotal - summed.discount_total == summed.net_total
    assert summed.net_total + summed.tax_total == summed.total


def test_half_cents_round_up():
    # 3 × 0.6235 = 1.8705 → 1.87; 1 × 0.005 = 0.005 → 0.01 (half up, not banker's 0.00)
    assert line_amounts(D("3"), D("0.6235"), D("0"), D("0")).list_amount == D("1.87")
    assert line_amounts(D("1"), D("0.005"), D("0"), D("0")).list_amount == D("0.01")
    line = line_amounts(D("1"), D("100.10"), D("5"), D("0.13"))  # discount 5.005 → 5.01; net 95.09; tax 12.3617
    assert (line.discount_amount, line.net_amount, line.tax_amount, line.total) == (
        D("5.01"),
        D("95.09"),
        D("12.36"),
        D("107.45"),
    )


def test_a_quote_takes_prices_from_the_price_list_and_stores_totals(users, customers, catalogue):
    quote = make_quote(
        users.am1,
        customers.c1,
        [
            {"product_id": catalogue.widget.pk, "quantity": D("3")},
            {"product_id": catalogue.service.pk, "quantity": D("1"), "discount_percent": D("5")},
        ],
    )
    lines = list(quote.lines.all())
    assert [line.unit_price for line in lines] == [D("1000"), D("36000")]
    assert [line.tax_rate for line in lines] == [D("0.13"), D("0.06")]
    assert quote.subtotal == D("39000.00") and quote.discount_total == D("1800.00")
    assert quote.tax_total == D("390.00") + D("2052.00")
    assert quote.total == D("3390.00") + D("36252.00")
    assert quote.approval == Quote.Approval.NOT_NEEDED  # 5 % is within an account manager's limit
    assert quote.number.startswith("QT") and quote.revision == 1


def test_a_discount_above_the_limit_needs_the_team_leads_approval(users, customers, catalogue, api):
    quote = make_quote(
        users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1"), "discount_percent": D("12")}]
    )
    assert quote.approval == Quote.Approval.REQUIRED
    am1, lead1 = api(users.am1), api(users.lead1)
    assert am1.post(f"/quotes/{quote.pk}/send", {"version": quote.version}).status_code == 409
    response = am1.post(f"/quotes/{quote.pk}/request-approval", {"version": quote.version, "reason": "大客户续约"})
    assert response.status_code == 200, response.content
    quote.refresh_from_db()
    assert quote.approval == Quote.Approval.PENDING
    # Pending: can't send, can't edit.
    assert am1.post(f"/quotes/{quote.pk}/send", {"version": quote.version}).status_code == 409
    assert am1.patch(f"/quotes/{quote.pk}", {"version": quote.version, "title": "改"}).status_code == 409
    # The requester cannot approve; another team's lead cannot see it; the own team lead approves.
    assert am1.post(f"/quotes/{quote.pk}/approve", {"version": quote.version}).status_code == 403
    assert api(users.lead2).post(f"/quotes/{quote.pk}/approve", {"version": quote.version}).status_code == 404
    assert [q.pk for q in quotes.approvals_waiting_for(user=fresh(users.lead1))] == [quote.pk]
    from guanxi.activities.models import Notification

    notice = Notification.objects.get(kind="quote_approval")
    assert notice.user_id == users.lead1.pk and quote.number in notice.title and "12" in notice.body
    response = lead1.post(f"/quotes/{quote.pk}/approve", {"version": quote.version, "comment": "同意"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    quote.refresh_from_db()
    assert quote.approval == Quote.Approval.APPROVED
    assert AuditLog.objects.filter(
        object_type="sales.quote", object_id=str(quote.pk), action="approve", actor=users.lead1
    ).exists()
    assert Notification.objects.get(kind="quote_decision").user_id == users.am1.pk
    assert am1.post(f"/quotes/{quote.pk}/send", {"version": quote.version}).status_code == 200


def test_a_rejected_discount_blocks_sending_until_changed(users, customers, catalogue, api):
    quote = make_quote(
        users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1"), "discount_percent": D("15")}]
    )
    approval = quotes.quote_request_approval(actor=fresh(users.am1), quote_id=quote.pk, version=quote.version)
    quote.refresh_from_db()
    response = api(users.lead1).post(f"/quotes/{quote.pk}/reject", {"version": quote.version})
    assert response.status_code == 422 and "comment" in errors_by_field(response)
    response = api(users.lead1).post(f"/quotes/{quote.pk}/reject", {"version": quote.version, "comment": "太低"})
    assert response.status_code == 200
    approval.refresh_from_db()
    assert approval.status == "rejected" and approval.comment == "太低" and approval.decided_by_id == users.lead1.pk
    quote.refresh_from_db()
    assert api(users.am1).post(f"/quotes/{quote.pk}/send", {"version": quote.version}).status_code == 409
    # Lowering the discount to the limit clears it.
    response = api(users.am1).patch(
        f"/quotes/{quote.pk}",
        {
            "version": quote.version,
            "lines": [{"product_id": catalogue.widget.pk, "quantity": "1", "discount_percent": "5"}],
        },
    )
    assert response.json()["approval"] == "not_needed"
    assert api(users.am1).post(f"/quotes/{quote.pk}/send", {"version": response.json()["version"]}).status_code == 200


def test_a_discount_above_the_leads_own_limit_needs_a_higher_manager(users, customers, catalogue):
    quote = make_quote(
        users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1"), "discount_percent": D("25")}]
    )
    quotes.quote_request_approval(actor=fresh(users.am1), quote_id=quote.pk, version=quote.version)
    quote.refresh_from_db()
    with pytest.raises(PermissionDenied):
        quotes.quote_decide(actor=fresh(users.lead1), quote_id=quote.pk, version=quote.version, approve=True)
    quotes.quote_decide(actor=fresh(users.bm1), quote_id=quote.pk, version=quote.version, approve=True)
    assert Quote.objects.get(pk=quote.pk).approval == Quote.Approval.APPROVED


def test_the_discount_limit_follows_the_manager_tier(users, settings):
    profile = users.am1.profile
    assert quotes.discount_limit(fresh(users.am1)) == D("5")
    profile.manager_tier = "principal"
    profile.save()
    assert quotes.discount_limit(fresh(users.am1)) == D("15")
    settings.GUANXI_DISCOUNT_LIMITS_BY_TIER = {"": 2, "principal": 8}
    assert quotes.discount_limit(fresh(users.am1)) == D("8")
    assert quotes.discount_limit(fresh(users.lead1)) == D("20")


def test_revising_a_sent_quote_makes_a_new_revision_and_keeps_the_old(users, customers, catalogue, api):
    old = sent_quote(users.am1, customers.c1, catalogue.widget)
    client = api(users.am1)
    assert client.patch(f"/quotes/{old.pk}", {"version": old.version, "title": "改"}).status_code == 409
    response = client.post(f"/quotes/{old.pk}/revise", {"version": old.version})
    assert response.status_code == 200, response.content
    new = response.json()
    assert (new["number"], new["revision"], new["status"], new["previous_id"]) == (old.number, 2, "draft", old.pk)
    assert new["total"] == str(old.total)
    old.refresh_from_db()
    assert old.status == "superseded"
    assert client.patch(f"/quotes/{old.pk}", {"version": old.version, "title": "改"}).status_code == 409
    assert client.post(f"/quotes/{old.pk}/revise", {"version": old.version}).status_code == 409
    assert [q.revision for q in quotes.quote_revisions(user=fresh(users.am1), quote=old)] == [1, 2]


def test_accept_decline_and_state_conflicts(users, customers, catalogue, api):
    client = api(users.am1)
    draft = make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": "1"}])
    assert client.post(f"/quotes/{draft.pk}/accept", {"version": draft.version}).status_code == 409
    empty = make_quote(users.am1, customers.c1)
    response = client.post(f"/quotes/{empty.pk}/send", {"version": empty.version})
    assert response.status_code == 422 and "lines" in errors_by_field(response)
    quote = sent_quote(users.am1, customers.c1, catalogue.widget)
    assert client.post(f"/quotes/{quote.pk}/accept", {"version": quote.version - 1}).status_code == 409
    response = client.post(f"/quotes/{quote.pk}/accept", {"version": quote.version})
    assert response.json()["status"] == "accepted"
    assert client.post(f"/quotes/{quote.pk}/decline", {"version": response.json()["version"]}).status_code == 409


def test_stale_version_is_refused(users, customers, catalogue):
    quote = make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    quotes.quote_update(actor=fresh(users.am1), quote_id=quote.pk, version=1, data={"title": "一"})
    with pytest.raises(StaleVersion):
        quotes.quote_update(actor=fresh(users.am1), quote_id=quote.pk, version=1, data={"title": "二"})


def test_bad_lines_name_the_field_and_write_nothing(users, customers, catalogue, api):
    client = api(users.am1)
    before = (Quote.objects.count(), QuoteLine.objects.count())
    cases = [
        ({"product_id": 999999, "quantity": "1"}, "lines.0.product_id"),
        ({"product_id": catalogue.widget.pk, "quantity": "0"}, "lines.0.quantity"),
        ({"product_id": catalogue.widget.pk, "quantity": "1", "discount_percent": "101"}, "lines.0.discount_percent"),
        ({"product_id": catalogue.widget.pk, "quantity": "1", "unit_price": "-1"}, "lines.0.unit_price"),
        ({"product_id": catalogue.widget.pk, "quantity": "1e20"}, "lines.0.quantity"),
    ]
    for line, field in cases:
        response = client.post(
            "/quotes",
            {
                "customer_id": customers.c1.pk,
                "title": "x",
                "lines": [{"product_id": catalogue.widget.pk, "quantity": "1"}, line],
            },
        )
        assert response.status_code == 422, (line, response.content)
        fields = errors_by_field(response)
        assert field.replace("lines.0", "lines.1") in fields, fields
    response = client.post("/quotes", {"customer_id": customers.c2.pk, "title": "x"})
    assert response.status_code == 422 and "customer_id" in errors_by_field(response)
    assert (Quote.objects.count(), QuoteLine.objects.count()) == before


def test_a_product_without_a_price_needs_an_explicit_one(users, customers, catalogue):
    from guanxi.sales import products

    bare = products.product_create(actor=fresh(users.admin), data={"code": "BARE", "name": "无价", "unit": "个"})
    with pytest.raises(ValidationError) as error:
        make_quote(users.am1, customers.c1, [{"product_id": bare.pk, "quantity": D("1")}])
    assert "lines.0.unit_price" in error.value.message_dict
    quote = make_quote(users.am1, customers.c1, [{"product_id": bare.pk, "quantity": D("1"), "unit_price": D("9.99")}])
    assert quote.total == D("11.29")


def test_quote_scope_matrix(users, customers, catalogue, api):
    """am1's quote: seen by am1, lead1, bm1, exec1, admin; not by am2, lead2, am3, lead3, bm2."""
    quote = make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    secret = make_quote(users.bm1, customers.sensitive, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    for name in ("am1", "lead1", "bm1", "exec1", "admin"):
        client = api(getattr(users, name))
        assert client.get(f"/quotes/{quote.pk}").status_code == 200, name
        assert quote.pk in [q["id"] for q in client.get("/quotes").json()["items"]], name
    for name in ("am2", "lead2", "am3", "lead3", "bm2"):
        client = api(getattr(users, name))
        assert client.get(f"/quotes/{quote.pk}").status_code == 404, name
        assert client.get(f"/quotes/{quote.pk}/pdf").status_code == 404, name
        assert quote.pk not in [q["id"] for q in client.get("/quotes").json()["items"]], name
        overview = client.get(f"/customers/{customers.c1.pk}/overview", {"panels": "all"})
        assert overview.status_code == 404, name
    # Sensitive customers' quotes only for roles with the sensitive permission (not am1 or lead1).
    assert api(users.am1).get(f"/quotes/{secret.pk}").status_code == 404
    assert api(users.bm1).get(f"/quotes/{secret.pk}").status_code == 200


def test_quotes_panel_and_list_query_count(users, customers, catalogue, api, django_assert_max_num_queries):
    for _ in range(5):
        make_quote(users.am1, customers.c1, [{"product_id": catalogue.widget.pk, "quantity": D("1")}])
    client = api(users.am1)
    with django_assert_max_num_queries(8):
        response = client.get("/quotes")
    assert len(response.json()["items"]) == 5
    panels = client.get(f"/customers/{customers.c1.pk}/overview", {"panels": "all"}).json()["panels"]
    assert len(panels["quotes"]) == 5
    newest = Quote.objects.filter(customer=customers.c1).order_by("-created_at", "-id").first()
    assert panels["quotes"][0] == {
        "id": newest.pk,
        "number": newest.number,
        "revision": newest.revision,
        "title": newest.title,
        "status": newest.status,
        "status_label": str(newest.get_status_display()),
        "approval_label": str(newest.get_approval_display()),
        "total": str(newest.total),
    }
    assert api(users.am2).get("/quotes").json()["items"] == []


def test_opportunity_link_must_be_the_customers_and_in_scope(users, customers, catalogue):
    other = make_customer(users.am1)
    with pytest.raises(ValidationError) as error:
        make_quote(users.am1, customers.c1, opportunity_id=999999)
    assert "opportunity_id" in error.value.message_dict
    assert other.pk


def test_conflict_is_raised_for_edits_of_sent_quotes(users, customers, catalogue):
    quote = sent_quote(users.am1, customers.c1, catalogue.widget)
    with pytest.raises(Conflict):
        quotes.quote_update(actor=fresh(users.am1), quote_id=quote.pk, version=quote.version, data={"title": "x"})


def test_lines_are_priced_and_validated_in_queries_independent_of_their_number(users, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from guanxi.sales import products

    industrial = make_customer(users.am1, category_id=catalogue.industry.pk)
    make_quote(users.am1, industrial)  # the year's number sequence row exists from now on
    counts = []
    for chosen in ([catalogue.tariff], [catalogue.tariff, catalogue.widget, catalogue.service]):
        with CaptureQueriesContext(connection) as captured:
            quote = make_quote(users.am1, industrial, [{"product_id": p.pk, "quantity": D("1")} for p in chosen])
        counts.append(len(captured.captured_queries))
        expected = [products.price_for(p, industrial, timezone.localdate()) for p in chosen]
        assert [line.unit_price for line in quote.lines.order_by("position")] == expected
    assert counts[0] == counts[1]


def test_the_contracts_panel_lists_the_customers_contracts_newest_first(users, customers, api):
    from tests.sales.test_quotes_fixtures import make_contract, signed_contract

    older = make_contract(users.am1, customers.c1, D("500.00"))
    newer = signed_contract(users.am1, customers.c1, D("300.00"))
    make_contract(users.am2, customers.c2, D("700.00"))  # another customer's: not on c1's panel
    panel = api(users.lead1).get(f"/customers/{customers.c1.pk}/overview", {"panels": "all"}).json()["panels"]
    assert [row["id"] for row in panel["contracts"]] == [newer.pk, older.pk]
    newer.refresh_from_db()
    assert panel["contracts"][0] == {
        "id": newer.pk,
        "number": newer.number,
        "title": newer.title,
        "status": newer.status,
        "status_label": str(newer.get_status_display()),
        "start_date": newer.start_date.isoformat(),
        "end_date": newer.end_date.isoformat(),
        "value": str(newer.value),
    }
