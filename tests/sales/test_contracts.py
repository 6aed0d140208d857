"""Contracts (C5): templates with merge fields, numbers, transitions, attachments, renewal reminders, scope."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanxi.core.errors import Conflict
from guanxi.core.models import AuditLog
from guanxi.sales import contracts, contracts_renewal, quotes
from guanxi.sales.models import Contract, ContractAttachment
from tests.conftest import errors_by_field, fresh, make_customer
from tests.sales.test_quotes_fixtures import catalogue, make_contract, sent_quote, signed_contract  # noqa: F401

D = Decimal
BODY = (
    "合同编号：{{ contract_number }}\n甲方：{{ party_a }}\n乙方：{{ customer_name }}\n"
    "期限：{{ start_date }}至{{ end_date }}\n金额：{{ value }}元（{{ value_in_words }}）"
    "{% if customer_address %}\n地址：{{ customer_address }}{% endif %}"
)


@pytest.fixture
def template(users):
    return contracts.template_create(actor=fresh(users.bm1), data={"name": "供用电合同", "body": BODY})


def test_a_contract_renders_its_template_autoescaped(users, org, template):
    customer = make_customer(users.am1, name="<script>x</script>钢铁")
    contract = make_contract(users.am1, customer, D("1234.50"), template_id=template.pk)
    assert contract.number.startswith("HT") and contract.status == "draft"
    assert contract.party_a == "示范市供电公司" and contract.party_b == customer.name
    assert f"合同编号：{contract.number}" in contract.terms
    assert "乙方：&lt;script&gt;x&lt;/script&gt;钢铁" in contract.terms
    assert "金额：1,234.50元（壹仟贰佰叁拾肆元伍角）" in contract.terms
    assert "2026年01月01日至2026年12月31日" in contract.terms
    assert "地址" not in contract.terms


def test_unknown_merge_fields_are_refused_naming_them(users, api):
    client = api(users.bm1)
    response = client.post("/contract-templates", {"name": "坏", "body": "{{ customer_name }} {{ price }} {{ x.y }}"})
    assert response.status_code == 422
    message = errors_by_field(response)["body"][0]
    assert "price" in message and "x.y" in message and "customer_name" not in message
    for body in (
        "{% load static %}",
        "{% include 'x.html' %}",
        "{{ customer_name|safe }}",
        "{% autoescape off %}{% endautoescape %}",
        "{% for a in b %}{% endfor %}",
        "{{ customer_name.__class__ }}",
    ):
        assert client.post("/contract-templates", {"name": "坏", "body": body}).status_code == 422, body
    assert api(users.am1).post("/contract-templates", {"name": "x", "body": "x"}).status_code == 403
    fields = api(users.am1).get("/contract-templates").json()["fields"]
    assert "customer_name" in fields and "value_in_words" in fields


def test_numbers_are_unique_and_sequential(users, customers):
    numbers = [make_contract(users.am1, customers.c1).number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n[-5:]) for n in numbers] == sorted(int(n[-5:]) for n in numbers)


def test_allowed_transitions_and_409_for_the_others(users, customers, api):
    contract = make_contract(users.am1, customers.c1)
    client = api(users.am1)
    assert client.post(f"/contracts/{contract.pk}/activate", {"version": 1}).status_code == 409
    assert client.post(f"/contracts/{contract.pk}/expire", {"version": 1}).status_code == 409
    response = client.post(f"/contracts/{contract.pk}/sign", {"version": 1, "signed_on": "2025-12-20"})
    assert response.status_code == 200 and response.json()["status"] == "signed"
    assert response.json()["signed_on"] == "2025-12-20"
    assert client.post(f"/contracts/{contract.pk}/sign", {"version": 2}).status_code == 409
    assert client.post(f"/contracts/{contract.pk}/activate", {"version": 1}).status_code == 409  # stale
    assert client.post(f"/contracts/{contract.pk}/activate", {"version": 2}).json()["status"] == "active"
    response = client.post(f"/contracts/{contract.pk}/terminate", {"version": 3})
    assert response.status_code == 422 and "reason" in errors_by_field(response)
    response = client.post(f"/contracts/{contract.pk}/terminate", {"version": 3, "reason": "客户销户"})
    assert response.json()["status"] == "terminated"
    assert client.post(f"/contracts/{contract.pk}/activate", {"version": 4}).status_code == 409
    actions = list(
        AuditLog.objects.filter(object_type="sales.contract", object_id=str(contract.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["create", "signed", "active", "terminated"]


def test_a_signed_contract_is_read_only_but_for_title_and_reminder(users, customers, api):
    contract = signed_contract(users.am1, customers.c1)
    client = api(users.am1)
    assert client.patch(f"/contracts/{contract.pk}", {"version": contract.version, "value": "1"}).status_code == 409
    response = client.patch(f"/contracts/{contract.pk}", {"version": contract.version, "renewal_notice_days": 60})
    assert response.status_code == 200 and response.json()["renewal_notice_days"] == 60


def test_bad_contract_input_names_the_field_and_writes_nothing(users, customers, api):
    client = api(users.am1)
    base = {
        "customer_id": customers.c1.pk,
        "title": "x",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "value": "100",
    }
    before = Contract.objects.count()
    assert "end_date" in errors_by_field(client.post("/contracts", {**base, "end_date": "2025-01-01"}))
    assert "value" in errors_by_field(client.post("/contracts", {**base, "value": "-1"}))
    assert "customer_id" in errors_by_field(client.post("/contracts", {**base, "customer_id": customers.c2.pk}))
    assert "template_id" in errors_by_field(client.post("/contracts", {**base, "template_id": 999999}))
    assert "start_date" in errors_by_field(client.post("/contracts", {**base, "start_date": "2026-13-01"}))
    assert Contract.objects.count() == before


def test_an_accepted_quote_becomes_a_contract_in_one_action(users, customers, catalogue, template, api):
    quote = sent_quote(users.am1, customers.c1, catalogue.widget)
    client = api(users.am1)
    body = {"version": quote.version, "start_date": "2026-07-01", "end_date": "2027-06-30", "template_id": template.pk}
    assert client.post(f"/quotes/{quote.pk}/contract", body).status_code == 409  # not accepted yet
    quote = quotes.quote_accept(actor=fresh(users.am1), quote_id=quote.pk, version=quote.version)
    body["version"] = quote.version
    response = client.post(f"/quotes/{quote.pk}/contract", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["quote_id"] == quote.pk and data["value"] == "2260.00" and data["customer_id"] == customers.c1.pk
    assert "贰仟贰佰陆拾元整" in data["terms"]
    assert client.post(f"/quotes/{quote.pk}/contract", body).status_code == 409  # only one contract per quote


def test_attachments_are_size_limited_and_served_only_in_scope(users, customers, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.GUANXI_ATTACHMENT_MAX_BYTES = 1024
    contract = make_contract(users.am1, customers.c1)
    client = api(users.am1)
    url = f"/api/v1/contracts/{contract.pk}/attachments"
    response = client.client.post(url, {"file": SimpleUploadedFile("../../签字版.pdf", b"%PDF-1.4 signed")})
    assert response.status_code == 201, response.content
    attachment = ContractAttachment.objects.get()
    assert attachment.name == "签字版.pdf" and ".." not in attachment.file.name
    assert (tmp_path / attachment.file.name).read_bytes() == b"%PDF-1.4 signed"
    download = client.get(f"/contracts/{contract.pk}/attachments/{attachment.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    assert "attachment" in download["Content-Disposition"]
    for name in ("am2", "lead2", "bm2"):
        assert api(getattr(users, name)).get(f"/contracts/{contract.pk}/attachments/{attachment.pk}").status_code == 404
    other = make_contract(users.am2, customers.c2)
    assert api(users.am2).get(f"/contracts/{other.pk}/attachments/{attachment.pk}").status_code == 404
    too_big = client.client.post(url, {"file": SimpleUploadedFile("big.bin", b"x" * 2048)})
    assert too_big.status_code == 422 and "file" in errors_by_field(too_big)
    assert ContractAttachment.objects.count() == 1
    assert client.delete(f"/contracts/{contract.pk}/attachments/{attachment.pk}").status_code == 204


def test_renewal_reminders_are_sent_once_per_end_date(users, customers, monkeypatch):
    today = datetime.date(2026, 12, 5)
    due = signed_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 31))  # 26 days left, notice 30
    signed_contract(users.am1, customers.c1, end_date=datetime.date(2027, 3, 31))  # not yet
    make_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 20))  # draft: never reminded
    reminders = []
    monkeypatch.setattr(contracts_renewal, "_remind", lambda contract, day: reminders.append(contract.pk))
    assert contracts_renewal.send_renewal_reminders(today=today) == 1
    assert contracts_renewal.send_renewal_reminders(today=today) == 0
    assert contracts_renewal.send_renewal_reminders(today=today + datetime.timedelta(days=1)) == 0
    assert reminders == [due.pk]
    # A new end date (extension) gets its own reminder.
    Contract.objects.filter(pk=due.pk).update(end_date=datetime.date(2026, 12, 30))
    assert contracts_renewal.send_renewal_reminders(today=today) == 1


def test_a_failed_reminder_is_retried_and_does_not_stop_the_others(users, customers, monkeypatch):
    today = datetime.date(2026, 12, 5)
    failing = signed_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 30))
    other = signed_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 31))
    reminders = []

    def remind(contract, day):
        if contract.pk == failing.pk and not reminders:
            raise OSError("mail server down")
        reminders.append(contract.pk)

    monkeypatch.setattr(contracts_renewal, "_remind", remind)
    assert contracts_renewal.send_renewal_reminders(today=today) == 1
    assert reminders == [other.pk]
    assert Contract.objects.get(pk=failing.pk).renewal_reminded_for is None
    assert contracts_renewal.send_renewal_reminders(today=today) == 1
    assert reminders == [other.pk, failing.pk]


def test_the_reminder_is_an_activity_task_for_the_owner(users, customers):
    from guanxi.activities.models import Activity

    contract = signed_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 31))
    assert contracts_renewal.send_renewal_reminders(today=datetime.date(2026, 12, 10)) == 1
    task = Activity.objects.get(kind="task", customer=customers.c1)
    assert task.owner_id == users.am1.pk and contract.number in task.subject
    assert task.linked_id == contract.pk
    assert contracts_renewal.send_renewal_reminders(today=datetime.date(2026, 12, 11)) == 0
    assert Activity.objects.filter(kind="task").count() == 1


def test_the_reminder_falls_back_to_email(users, customers, monkeypatch):
    monkeypatch.setattr(contracts_renewal, "_create_task", lambda *args: False)
    users.am1.email = "am1@example.cn"
    users.am1.save()
    signed_contract(users.am1, customers.c1, end_date=datetime.date(2026, 12, 31))
    assert contracts_renewal.send_renewal_reminders(today=datetime.date(2026, 12, 10)) == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["am1@example.cn"]


def test_the_daily_task_runs_reminders_and_expiry(users, customers):
    from guanxi.sales.tasks import contracts_daily

    contract = signed_contract(
        users.am1, customers.c1, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2020, 12, 31)
    )
    result = contracts_daily()
    assert result["expired"] == 1
    contract.refresh_from_db()
    assert contract.status == "expired"
    assert contracts_daily()["expired"] == 0


def test_expiring_contracts_are_listed_soonest_first_in_scope(users, customers, api):
    today = timezone.localdate()
    late = signed_contract(users.am1, customers.c1, start_date=today, end_date=today + datetime.timedelta(days=50))
    soon = signed_contract(users.am1, customers.c1, start_date=today, end_date=today + datetime.timedelta(days=10))
    signed_contract(users.am1, customers.c1, start_date=today, end_date=today + datetime.timedelta(days=200))
    items = api(users.am1).get("/contracts/expiring", {"within_days": 60}).json()["items"]
    assert [c["id"] for c in items] == [soon.pk, late.pk]
    assert api(users.am2).get("/contracts/expiring").json()["items"] == []


def test_contract_scope_matrix(users, customers, api, django_assert_max_num_queries):
    contract = make_contract(users.am1, customers.c1)
    for name in ("am1", "lead1", "bm1", "exec1"):
        client = api(getattr(users, name))
        assert client.get(f"/contracts/{contract.pk}").status_code == 200, name
        assert [c["id"] for c in client.get("/contracts").json()["items"]] == [contract.pk], name
    for name in ("am2", "lead2", "am3", "bm2"):
        client = api(getattr(users, name))
        assert client.get(f"/contracts/{contract.pk}").status_code == 404, name
        assert client.get("/contracts").json()["items"] == [], name
        assert client.patch(f"/contracts/{contract.pk}", {"version": 1, "title": "x"}).status_code == 404, name
    for _ in range(4):
        make_contract(users.am1, customers.c1)
    client = api(users.am1)
    with django_assert_max_num_queries(8):
        assert len(client.get("/contracts").json()["items"]) == 5


def test_conflict_on_terminated_contract_update(users, customers):
    contract = make_contract(users.am1, customers.c1)
    contract = contracts.contract_transition(
        actor=fresh(users.am1), contract_id=contract.pk, version=1, to="terminated", reason="作废"
    )
    with pytest.raises(Conflict):
        contracts.contract_update(
            actor=fresh(users.am1), contract_id=contract.pk, version=contract.version, data={"value": D("1")}
        )
    with pytest.raises(ValidationError):
        contracts.contract_transition(actor=fresh(users.am1), contract_id=contract.pk, version=None, to="bogus")
