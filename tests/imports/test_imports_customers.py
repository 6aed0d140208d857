"""Importing customers with their contacts from CSV and XLSX: validate all rows, commit all or nothing."""

from guanxi.core.models import AuditLog
from guanxi.customers.models import Contact, Customer, CustomerSequence
from tests.conftest import credit_code
from tests.imports.helpers import csv_bytes

HEADERS = ["客户名称", "统一社会信用代码", "客户类型", "联系人", "手机", "邮箱", "地址", "区域", "等级"]


def good_rows(count: int = 3) -> list[list]:
    return [
        [
            f"导入测试{n}有限公司",
            credit_code(9000 + n),
            "单位",
            f"联系人{n}",
            f"1380013{n:04d}",
            f"c{n}@example.com",
            f"龙沙区{n}号",
            "230202",
            "重点",
        ]
        for n in range(1, count + 1)
    ]


def test_it_imports_a_good_csv_and_commits(users, uploader):
    response = uploader(users.am1).upload(csv_bytes([HEADERS, *good_rows()]), commit=True)
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["state"] == "done", job
    assert job["rows"] == {"total": 3, "valid": 3, "invalid": 0, "created": 3, "updated": 0, "unchanged": 0}
    customers = Customer.objects.filter(name__startswith="导入测试").order_by("name")
    assert customers.count() == 3
    first = customers[0]
    assert first.owner_id == users.am1.pk  # an account manager who imports owns the customers
    assert first.org_unit.code == "B01-T1"
    assert first.number.startswith("CB01")
    assert first.kind == "organisation" and first.grade == "key"
    assert first.region.code == "230202"
    assert first.name_key
    contact = Contact.objects.get(customer=first)
    assert contact.primary and contact.mobile == "13800130001"
    assert AuditLog.objects.filter(action="import", object_type="customers.customer").count() == 3
    assert CustomerSequence.objects.get(branch_code="B01").last == 3
