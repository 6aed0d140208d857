"""Hostile text shows literally everywhere: pages (list, detail and 360 panels, search, duplicates, merge, contacts,
imports report), the API, exports (CSV, XLSX), vCard. Spreadsheet cells that a spreadsheet would run as a formula are
neutralised (CSV/formula injection)."""

import csv
import io

import pytest
import vobject
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from guanxi.customers.models import Customer
from tests.conftest import Api, make_contact, make_customer

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEMPLATE = "{{7*7}}"
IMG = '"><img src=x onerror=alert(2)>'
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def hostile(users):
    """Customers of am1's named with payloads (two of them share a name: a duplicate pair), with hostile contacts."""
    first = make_customer(users.am1, name=SCRIPT, address=IMG)
    twin = make_customer(users.am1, name=SCRIPT, address="北京")
    template = make_customer(users.am1, name=TEMPLATE + "有限公司")
    contact = make_contact(users.am1, first, name=IMG, title=TEMPLATE, mobile="13800138000")
    return {"first": first, "twin": twin, "template": template, "contact": contact}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_literal(html: str) -> None:
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert SCRIPT_ESCAPED in html


PAGES = [
    ("/customers/", True),
    ("/customers/?q=script", True),
    ("/customers/{first}/", True),
    ("/customers/duplicates/", True),
    ("/customers/{first}/merge/{twin}/", True),
    ("/search/?q=script", True),
    ("/contacts/", False),  # shows contacts (IMG) and their customers
]


@pytest.mark.parametrize("role_user", ["am1", "admin"])
@pytest.mark.parametrize("path, shows_script", PAGES)
def test_pages_show_hostile_names_literally(users, hostile, role_user, path, shows_script):
    url = path.format(first=hostile["first"].pk, twin=hostile["twin"].pk)

    response = _client(getattr(users, role_user)).get(url)

    assert response.status_code == 200, url
    html = response.content.decode()
    assert "<img src=x" not in html and SCRIPT not in html
    if shows_script:
        assert SCRIPT_ESCAPED in html, url


def test_the_360_view_and_htmx_fragments_escape(users, hostile):
    client = _client(users.am1)
    detail = client.get(f"/customers/{hostile['first'].pk}/").content.decode()
    _assert_literal(detail)
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in detail  # the address and the contact

    fragment = client.get("/customers/?q=script", HTTP_HX_REQUEST="true").content.decode()
    _assert_literal(fragment)
    template_page = client.get(f"/customers/{hostile['template'].pk}/").content.decode()
    assert TEMPLATE + "有限公司" in template_page  # not evaluated to 49


def test_the_api_returns_hostile_text_as_json_data(users, hostile):
    response = Api(users.am1).get(f"/customers/{hostile['first'].pk}")

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"] == SCRIPT
    assert Api(users.am1).get(f"/customers/{hostile['template'].pk}").json()["name"] == TEMPLATE + "有限公司"


def test_the_imports_report_page_shows_hostile_cells_literally(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    content = "客户名称,统一社会信用代码,地址\n" + f'"{SCRIPT}",NOT-A-CODE,"{IMG}"\n'
    client = _client(users.admin)
    response = client.post(
        "/api/v1/imports",
        {"kind": "customers", "file": SimpleUploadedFile("c.csv", content.encode("utf-8-sig"))},
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]

    page = client.get(f"/imports/{job_id}/").content.decode()

    assert "<img src=x" not in page and SCRIPT not in page
    assert "NOT-A-CODE" in page  # the bad cell is reported


def _customer_values(rows: list[list], name_prefix: str) -> list:
    return [row for row in rows if row and str(row[1]).lstrip("'").startswith(name_prefix)]


@pytest.fixture
def formula_customers(users):
    return [make_customer(users.am1, name=f"{formula}公司", address=formula) for formula in FORMULAS]


def test_csv_export_keeps_hostile_text_and_neutralises_formulas(users, hostile, formula_customers):
    response = _client(users.am1).get("/customers/export/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    names = [row[1] for row in rows[1:]]
    assert SCRIPT in names and TEMPLATE + "有限公司" in names
    for formula in FORMULAS:
        assert "'" + formula.strip() + "公司" in names, formula  # names are stored stripped
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_xlsx_export_stores_formula_lookalikes_as_text(users, hostile, formula_customers):
    response = _client(users.am1).get("/customers/export/", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active

    names = [cell.value for cell in next(sheet.iter_cols(min_col=2, max_col=2, min_row=2))]
    assert SCRIPT in names
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # no cell is a formula
    for formula in FORMULAS:
        assert formula.strip("\t\r") in " ".join(str(n) for n in names), formula


def test_vcard_keeps_hostile_text_as_values(users, hostile):
    evil = make_contact(users.am1, hostile["first"], name="王\r\nTEL:999;ORG:x")
    response = _client(users.am1).get(f"/contacts/{evil.pk}/vcard/")
    text = b"".join(getattr(response, "streaming_content", [response.content])).decode()

    cards = list(vobject.readComponents(text))
    assert len(cards) == 1
    card = cards[0]
    assert card.fn.value == "王\r\nTEL:999;ORG:x" or card.fn.value.replace("\r", "") == "王\nTEL:999;ORG:x"
    assert not any(tel.value == "999" for tel in card.contents.get("tel", []))
    assert card.org.value == [SCRIPT]


def test_the_admin_escapes_hostile_names(users, hostile):
    html = _client(users.admin).get("/admin/customers/customer/").content.decode()
    assert SCRIPT not in html
    assert Customer.objects.filter(name=SCRIPT).count() == 2
