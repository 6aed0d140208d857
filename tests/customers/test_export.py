"""Export of the customer list (CSV, XLSX) and of contacts (vCard): scoped, filtered and masked per role."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from guanxi.customers.models import Customer
from tests.conftest import errors_by_field, id_number, make_contact, make_customer
from tests.imports.helpers import Uploader


@pytest.fixture
def book(users):
    """am1 has two customers (one a person with an ID number), am2 and am3 one each; every one has a contact."""
    person = make_customer(users.am1, name="甲导出个人", kind="individual", id_number=id_number(5101), grade="key")
    company = make_customer(users.am1, name="甲导出公司", tags=["钢铁"], address='=HYPERLINK("http://x")')
    other_team = make_customer(users.am2, name="乙导出公司")
    other_branch = make_customer(users.am3, name="丙导出公司")
    for customer, mobile in (
        (person, "13800138001"),
        (company, "13800138002"),
        (other_team, "13800138003"),
        (other_branch, "13800138004"),
    ):
        make_contact(
            users.am1 if customer.owner_id == users.am1.pk else customer.owner,
            customer,
            name=f"联系人{mobile[-1]}",
            mobile=mobile,
        )
    return person, company, other_team, other_branch


def exported_csv(user, **params) -> list[dict]:
    client = Client()
    client.force_login(user)
    response = client.get("/api/v1/customers/export", {"format": "csv", **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 Chinese only with the BOM
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_an_account_manager_exports_only_their_customers_masked(users, book):
    rows = exported_csv(users.am1)

    assert sorted(row["名称"] for row in rows) == ["甲导出个人", "甲导出公司"]
    person = next(row for row in rows if row["名称"] == "甲导出个人")
    assert person["身份证号码"] == book[0].id_number[0] + "*" * 15 + book[0].id_number[-2:]
    assert person["联系人 · 手机"] == "138****8001"
    assert (person["类型"], person["客户等级"]) == ("个人", "重点")


def test_a_branch_manager_exports_the_branch_unmasked(users, book):
    rows = exported_csv(users.bm1)

    assert sorted(row["名称"] for row in rows) == ["乙导出公司", "甲导出个人", "甲导出公司"]
    person = next(row for row in rows if row["名称"] == "甲导出个人")
    assert person["身份证号码"] == book[0].id_number
    assert person["联系人 · 手机"] == "13800138001"


def test_the_export_applies_the_list_filters(users, book):
    assert [row["名称"] for row in exported_csv(users.bm1, grade="key")] == ["甲导出个人"]
    assert [row["名称"] for row in exported_csv(users.bm1, tag="钢铁")] == ["甲导出公司"]
    assert exported_csv(users.bm1, q="不存在") == []


def test_sensitive_customers_stay_out_of_exports_for_whoever_cannot_see_them(users, book):
    make_customer(users.bm1, name="甲导出敏感", owner_id=users.am1.pk, sensitive=True)

    assert "甲导出敏感" not in [row["名称"] for row in exported_csv(users.am1)]
    assert "甲导出敏感" in [row["名称"] for row in exported_csv(users.bm1)]


def test_csv_cells_are_never_formulas(users, book):
    company = next(row for row in exported_csv(users.am1) if row["名称"] == "甲导出公司")

    assert company["地址"].startswith("'=")


def test_the_xlsx_export_has_the_same_rows(users, book):
    client = Client()
    client.force_login(users.bm2)

    response = client.get("/api/v1/customers/export", {"format": "xlsx"})

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("客户编号", "名称", "类型")
    assert [row[1] for row in rows[1:]] == ["丙导出公司"]


def test_the_export_page_answers_the_list_link(users, book):
    client = Client()
    client.force_login(users.am1)

    xlsx = client.get("/customers/export/", {"format": "xlsx", "grade": "key"})
    bad = client.get("/customers/export/", {"format": "pdf"})
    anonymous = Client().get("/customers/export/?format=csv")

    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = list(load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["甲导出个人"]
    assert bad.status_code == 400
    assert anonymous.status_code == 302


def test_the_api_names_a_bad_format_or_filter(users, book):
    client = Client()
    client.force_login(users.am1)

    assert "format" in errors_by_field(client.get("/api/v1/customers/export", {"format": "pdf"}))
    assert "grade" in errors_by_field(client.get("/api/v1/customers/export", {"grade": "gold"}))


def test_contacts_export_to_vcard_per_customer_and_per_list(users, book):
    person, company, other_team, _other = book
    am1, bm1 = Client(), Client()
    am1.force_login(users.am1)
    bm1.force_login(users.bm1)

    own = b"".join(am1.get(f"/api/v1/customers/{company.pk}/contacts.vcf").streaming_content).decode()
    unmasked = b"".join(bm1.get(f"/api/v1/customers/{company.pk}/contacts.vcf").streaming_content).decode()
    listed = b"".join(bm1.get("/api/v1/customers/export", {"format": "vcf"}).streaming_content).decode()

    assert own.count("BEGIN:VCARD") == 1 and "ORG:甲导出公司" in own
    assert "TEL" not in own  # masked roles get no phone numbers at all
    assert "TEL;TYPE=CELL:13800138002" in unmasked
    assert listed.count("BEGIN:VCARD") == 3 and "丙导出公司" not in listed
    assert am1.get(f"/api/v1/customers/{other_team.pk}/contacts.vcf").status_code == 404


def test_an_export_imports_back_unchanged(users, book):
    client = Client()
    client.force_login(users.bm1)
    response = client.get("/api/v1/customers/export", {"format": "xlsx"})
    content = b"".join(response.streaming_content)
    versions = dict(Customer.objects.values_list("pk", "version"))

    job = Uploader(users.bm1).upload(content, name="export.xlsx", commit=True).json()

    assert job["state"] == "done", job["errors"]
    assert job["rows"]["unchanged"] == 3 and job["rows"]["created"] == 0
    assert dict(Customer.objects.values_list("pk", "version")) == versions
