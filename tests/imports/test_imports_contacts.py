"""Importing contacts of existing customers from vCard 3.0 and 4.0, CSV and XLSX."""

from guanxi.customers.models import Contact
from tests.conftest import credit_code, make_contact, make_customer
from tests.imports.helpers import csv_bytes, xlsx_bytes

VCARD_3 = """BEGIN:VCARD
VERSION:3.0
FN:李娜
N:李;娜;;;
ORG:乙方电力有限公司;销售部
TITLE:采购经理
TEL;TYPE=CELL:139-0013-9000
TEL;TYPE=WORK,VOICE:010-12345678
EMAIL;TYPE=INTERNET:lina@example.com
BDAY:1985-02-03
X-WECHAT:lina_wx
END:VCARD
"""

VCARD_4 = """BEGIN:VCARD
VERSION:4.0
FN:张伟
N:张;伟;;;
ORG:乙方电力有限公司
TEL;TYPE="cell";VALUE=uri:tel:+86-138-0013-8000
TEL;TYPE="work,voice";VALUE=uri:tel:0452-2345678
EMAIL;TYPE=work:zw@example.com
BDAY:19800101
END:VCARD
"""


def test_it_imports_vcard_3_and_4_contacts_to_their_customers(users, uploader):
    customer = make_customer(users.am1, name="乙方电力有限公司")
    up = uploader(users.am1)

    three = up.upload(VCARD_3.encode(), name="lina.vcf", kind="contacts", commit=True).json()
    four = up.upload(VCARD_4.encode(), name="zhang.vcf", kind="contacts", commit=True).json()

    assert three["state"] == "done" and four["state"] == "done", (three, four)
    assert three["format"] == "vcf" and three["rows"]["created"] == 1
    lina = Contact.objects.get(name="李娜")
    assert lina.customer_id == customer.pk and lina.primary  # the customer's first contact
    assert (lina.mobile, lina.landline, lina.email) == ("13900139000", "010-12345678", "lina@example.com")
    assert (lina.title, lina.wechat, lina.birthday.isoformat()) == ("采购经理", "lina_wx", "1985-02-03")
    zhang = Contact.objects.get(name="张伟")
    assert (zhang.customer_id, zhang.primary) == (customer.pk, False)
    assert (zhang.mobile, zhang.landline, zhang.birthday.isoformat()) == ("13800138000", "0452-2345678", "1980-01-01")


def test_importing_the_same_vcard_again_changes_nothing(users, uploader):
    make_customer(users.am1, name="乙方电力有限公司")
    up = uploader(users.am1)
    up.upload((VCARD_3 + VCARD_4).encode(), name="all.vcf", kind="contacts", commit=True)

    again = up.upload((VCARD_3 + VCARD_4).encode(), name="all.vcf", kind="contacts", commit=True).json()

    assert again["rows"] == {"total": 2, "valid": 2, "invalid": 0, "created": 0, "updated": 0, "unchanged": 2}
    assert Contact.objects.count() == 2


def test_a_vcard_of_a_customer_out_of_scope_is_an_error(users, uploader):
    make_customer(users.am3, name="乙方电力有限公司")

    job = uploader(users.am1).upload(VCARD_3.encode(), name="x.vcf", kind="contacts", commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(1, "ORG")]
    assert not Contact.objects.exists()


def test_an_exported_vcard_finds_its_customer_by_number(users, uploader):
    customer = make_customer(users.bm1, name="原来的名字")
    make_contact(users.bm1, customer, name="赵六", mobile="13700137000")
    up = uploader(users.bm1)
    exported = b"".join(up.client.get(f"/api/v1/customers/{customer.pk}/contacts.vcf").streaming_content)
    assert b"X-GUANXI-CUSTOMER:" + customer.number.encode() in exported
    customer.name = "改过的名字"
    customer.save()

    job = up.upload(exported, name="export.vcf", kind="contacts", commit=True).json()

    assert job["state"] == "done" and job["rows"]["unchanged"] == 1


def test_it_imports_contacts_from_a_csv_naming_customers_by_number_or_credit_code(users, uploader):
    first = make_customer(users.am1, credit_code=credit_code(8101))
    second = make_customer(users.am1)
    rows = [
        ["客户编号", "统一社会信用代码", "姓名", "手机", "职务", "角色"],
        ["", first.credit_code, "钱七", "13600136000", "总工", "技术"],
        [second.number, "", "孙八", "", "", "财务"],
        ["C00000000", "", "周九", "", "", ""],
        [second.number, "", "", "13500135000", "", ""],
    ]

    job = uploader(users.am1).upload(xlsx_bytes(rows), name="contacts.xlsx", kind="contacts", commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(4, "customer_number"), (5, "name")]
    assert not Contact.objects.exists()

    fixed = uploader(users.am1).upload(xlsx_bytes(rows[:3]), name="contacts.xlsx", kind="contacts", commit=True).json()

    assert fixed["state"] == "done"
    assert first.contacts.get().role == "technical" and second.contacts.get().role == "finance"


def test_a_service_agent_cannot_import_contacts(users, uploader):
    make_customer(users.am1, name="乙方电力有限公司")

    response = uploader(users.agent1).upload(VCARD_3.encode(), name="x.vcf", kind="contacts")

    assert response.status_code == 403


def test_a_contacts_csv_must_name_the_customer_column(users, uploader):
    response = uploader(users.am1).upload(csv_bytes([["姓名", "手机"], ["钱七", "13600136000"]]), kind="contacts")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping"
