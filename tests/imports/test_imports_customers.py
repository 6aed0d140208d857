"""Importing customers with their contacts from CSV and XLSX: validate every row, commit all or nothing."""

import io
from datetime import datetime

from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from guanxi.core.models import AuditLog
from guanxi.customers.models import Category, Contact, Customer, CustomerSequence
from guanxi.imports.models import ImportJob
from tests.conftest import credit_code, errors_by_field, fresh, id_number, make_contact, make_customer
from tests.imports.helpers import csv_bytes, xlsx_bytes

HEADERS = ["客户名称", "统一社会信用代码", "客户类型", "联系人", "手机", "邮箱", "地址", "区域", "等级"]


def good_rows(count: int = 3, *, base: int = 9000) -> list[list]:
    return [
        [
            f"导入测试{n}有限公司",
            credit_code(base + n),
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


def imported() -> int:
    return Customer.objects.filter(name__startswith="导入测试").count()


# --- good files ------------------------------------------------------------------------------------------------


def test_it_imports_a_good_csv_and_commits(users, uploader):
    response = uploader(users.am1).upload(csv_bytes([HEADERS, *good_rows()]), commit=True)

    assert response.status_code == 201, response.content
    job = response.json()
    assert job["state"] == "done", job
    assert job["rows"] == {"total": 3, "valid": 3, "invalid": 0, "created": 3, "updated": 0, "unchanged": 0}
    assert job["summary"]["contacts_created"] == 3
    first = Customer.objects.filter(name__startswith="导入测试").order_by("name").first()
    assert first.owner_id == users.am1.pk  # an account manager who imports owns what they import
    assert first.org_unit.code == "B01-T1"
    assert first.number == "CB010000001"  # the branch's numbering series, as customer_create
    assert (first.kind, first.grade, first.region.code) == ("organisation", "key", "230202")
    assert first.name_key == "导入测试1"
    contact = Contact.objects.get(customer=first)
    assert contact.primary and contact.mobile == "13800130001" and contact.email == "c1@example.com"
    assert AuditLog.objects.filter(action="import", object_type="customers.customer").count() == 3
    assert AuditLog.objects.filter(action="import", object_type="customers.contact").count() == 3
    assert CustomerSequence.objects.get(branch_code="B01").last == 3


def test_it_numbers_imported_customers_after_those_created_one_by_one(users, uploader):
    make_customer(users.am1)

    uploader(users.am1).upload(csv_bytes([HEADERS, *good_rows(2)]), commit=True)

    numbers = sorted(Customer.objects.filter(name__startswith="导入测试").values_list("number", flat=True))
    assert numbers == ["CB010000002", "CB010000003"]
    assert make_customer(users.am1).number == "CB010000004"


def test_it_reads_an_xlsx_with_chinese_headers_values_and_a_title_row(users, uploader):
    category = Category.objects.get(code="P-LI")
    rows = [
        [
            "客户名称(必填)",
            "统一社会信用代码",
            "身份证号",
            "客户类型",
            "客户分类",
            "区域",
            "等级",
            "是否VIP",
            "标签",
            "联系人",
            "手机",
            "电话",
            "生日",
        ],
        [
            "齐齐哈尔导入测试钢铁有限公司",
            credit_code(9101),
            None,
            "企业",
            category.name,
            "黑龙江省/齐齐哈尔市/龙沙区",
            "潜力",
            "是",
            "钢铁、重点",
            "王工",
            13900139000,
            "0452-2345678",
            datetime(1980, 5, 6),
        ],
        [
            "导入测试张三",
            None,
            id_number(9102),
            "个人",
            None,
            "230202",
            "一般",
            "否",
            None,
            "张三",
            None,
            "13700137000",
            "1975/03/04",
        ],
    ]
    content = xlsx_bytes(rows, title_rows=[["客户导入模板"], []])

    job = uploader(users.bm1).upload(content, name="客户.xlsx", commit=True).json()

    assert job["state"] == "done", job
    assert job["format"] == "xlsx"
    company = Customer.objects.get(name="齐齐哈尔导入测试钢铁有限公司")
    assert (company.kind, company.grade, company.vip, company.category_id) == (
        "organisation",
        "potential",
        True,
        category.pk,
    )
    assert company.region.code == "230202"
    assert sorted(t.name for t in company.tags.all()) == ["重点", "钢铁"]
    assert company.owner_id is None and company.org_unit.code == "B01"  # a branch manager's import stays unassigned
    contact = company.contacts.get()
    assert (contact.mobile, contact.landline, contact.birthday.isoformat()) == (
        "13900139000",
        "0452-2345678",
        "1980-05-06",
    )
    person = Customer.objects.get(name="导入测试张三")
    assert person.kind == "individual" and person.id_number
    assert person.contacts.get().mobile == "13700137000"  # 电话 holding a mobile goes to mobile


def test_it_infers_the_kind_when_there_is_no_kind_column(users, uploader):
    rows = [
        ["客户名称", "统一社会信用代码", "身份证号"],
        ["导入测试甲", credit_code(9201), ""],
        ["导入测试乙", "", id_number(9202)],
    ]

    uploader(users.am1).upload(csv_bytes(rows), commit=True)

    assert Customer.objects.get(name="导入测试甲").kind == "organisation"
    assert Customer.objects.get(name="导入测试乙").kind == "individual"


def test_it_reads_gbk_csv_files_saved_by_excel(users, uploader):
    content = csv_bytes([HEADERS, *good_rows(2)], encoding="gb18030")

    job = uploader(users.am1).upload(content, commit=True).json()

    assert job["state"] == "done" and imported() == 2


def test_one_customer_with_several_contacts_takes_several_rows(users, uploader):
    code = credit_code(9301)
    rows = [
        ["客户名称", "统一社会信用代码", "联系人", "手机"],
        ["导入测试多联系人公司", code, "甲", "13800000001"],
        ["导入测试多联系人公司", code, "乙", "13800000002"],
        ["", code, "丙", "13800000003"],
    ]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "done" and job["rows"]["created"] == 1
    customer = Customer.objects.get(credit_code=code)
    assert sorted(customer.contacts.values_list("name", "primary")) == [("丙", False), ("乙", False), ("甲", True)]


# --- bad rows: nothing is written ------------------------------------------------------------------------------


def test_a_file_with_bad_rows_writes_nothing_and_reports_each_row(users, uploader):
    rows = [HEADERS, *good_rows(2)]
    rows.append(["导入测试坏公司", "91110000ABCDEFGHIJ", "外星人", "", "12345", "not-an-email", "", "999999", "超级"])
    rows.append(["", credit_code(9401), "单位", "", "", "", "", "", ""])
    audit_before = AuditLog.objects.count()

    response = uploader(users.am1).upload(csv_bytes(rows), commit=True)

    job = response.json()
    assert job["state"] == "invalid"
    assert job["rows"]["total"] == 4 and job["rows"]["invalid"] == 2 and job["rows"]["valid"] == 2
    errors = {(e["row"], e["column"]) for e in job["errors"]}
    assert {(4, "统一社会信用代码"), (4, "客户类型"), (4, "区域"), (4, "等级"), (5, "客户名称")} <= errors
    assert (4, "联系人") in errors  # a phone without a contact name
    assert imported() == 0 and Contact.objects.count() == 0
    assert AuditLog.objects.count() == audit_before
    assert not CustomerSequence.objects.exists()


def test_the_error_report_lists_the_bad_rows_as_uploaded(users, uploader):
    rows = [HEADERS, *good_rows(1), ["导入测试坏公司", "bad", "单位", "", "", "", "", "", ""]]
    up = uploader(users.am1)
    job = up.upload(csv_bytes(rows)).json()

    response = up.client.get(f"/api/v1/imports/{job['id']}/errors.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    bad_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert bad_rows[0][0] == "行" and bad_rows[0][1:-1] == tuple(HEADERS)
    assert len(bad_rows) == 2 and bad_rows[1][0] == 3 and bad_rows[1][1] == "导入测试坏公司"
    assert "统一社会信用代码" in bad_rows[1][-1]
    listing = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert listing[1][:2] == (3, "统一社会信用代码")


def test_it_refuses_a_credit_code_of_a_customer_outside_the_scope(users, uploader):
    theirs = make_customer(users.am3, credit_code=credit_code(9501))
    rows = [HEADERS, *good_rows(1), ["导入测试撞码", theirs.credit_code, "单位", "", "", "", "", "", ""]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "credit_code")]
    theirs.refresh_from_db()
    assert theirs.name != "导入测试撞码" and imported() == 0


def test_rows_of_one_customer_must_agree(users, uploader):
    code = credit_code(9601)
    rows = [["客户名称", "统一社会信用代码", "等级"], ["导入测试甲", code, "重点"], ["导入测试甲", code, "一般"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "grade")]


def test_two_new_customers_cannot_share_an_id_number(users, uploader):
    shared = id_number(9701)
    rows = [
        ["客户名称", "统一社会信用代码", "身份证号"],
        ["导入测试甲", credit_code(9702), shared],
        ["导入测试乙", credit_code(9703), shared],
    ]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid" and [(e["row"], e["field"]) for e in job["errors"]] == [(3, "id_number")]


def test_an_owner_outside_the_scope_is_an_error(users, uploader):
    rows = [["客户名称", "客户经理"], ["导入测试甲", "am3"], ["导入测试乙", "AM2"]]

    job = uploader(users.lead1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, "owner"), (3, "owner")]


def test_an_owner_in_scope_is_found_by_user_name_or_full_name(users, uploader):
    rows = [["客户名称", "客户经理"], ["导入测试甲", "am2"], ["导入测试乙", "AM1"]]

    job = uploader(users.bm1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "done"
    first, second = Customer.objects.get(name="导入测试甲"), Customer.objects.get(name="导入测试乙")
    assert (first.owner_id, first.org_unit.code) == (users.am2.pk, "B01-T2")
    assert second.owner_id == users.am1.pk


# --- re-import -------------------------------------------------------------------------------------------------


def test_importing_the_same_file_again_creates_no_duplicates(users, uploader):
    content = csv_bytes([HEADERS, *good_rows()])
    up = uploader(users.am1)
    up.upload(content, commit=True)
    audit_before = AuditLog.objects.count()

    job = up.upload(content, commit=True).json()

    assert job["state"] == "done"
    assert job["rows"] == {"total": 3, "valid": 3, "invalid": 0, "created": 0, "updated": 0, "unchanged": 3}
    assert job["summary"] == {"contacts_created": 0, "contacts_updated": 0, "contacts_unchanged": 3}
    assert imported() == 3 and Contact.objects.count() == 3
    assert AuditLog.objects.count() == audit_before


def test_a_changed_file_updates_matched_customers_and_their_contacts(users, uploader):
    rows = good_rows(2)
    up = uploader(users.am1)
    up.upload(csv_bytes([HEADERS, *rows]), commit=True)
    first = Customer.objects.get(credit_code=rows[0][1])
    rows[0][8] = "一般"  # grade
    rows[1][5] = "new@example.com"  # the contact's email
    rows[1][6] = ""  # an empty cell changes nothing

    job = up.upload(csv_bytes([HEADERS, *rows]), commit=True).json()

    assert job["rows"]["created"] == 0 and job["rows"]["updated"] == 1 and job["rows"]["unchanged"] == 1
    assert job["summary"]["contacts_updated"] == 1
    first.refresh_from_db()
    assert first.grade == "general" and first.version == 2
    second = Customer.objects.get(credit_code=rows[1][1])
    assert second.address == "龙沙区2号" and second.contacts.get().email == "new@example.com"
    entry = AuditLog.objects.filter(object_id=str(first.pk), action="import").latest("id")
    assert entry.changes["grade"] == ["key", "general"]


def test_it_matches_by_customer_number_and_follows_merged_customers(users, uploader):
    customer = make_customer(users.am1, name="导入测试原名")
    rows = [["客户编号", "客户名称", "地址"], [customer.number, "导入测试新名", "新地址"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["rows"]["updated"] == 1
    customer.refresh_from_db()
    assert (customer.name, customer.address, customer.name_key) == ("导入测试新名", "新地址", "导入测试新名")


def test_an_unknown_customer_number_is_an_error(users, uploader):
    other = make_customer(users.am3)
    rows = [["客户编号", "客户名称"], ["C99999999", "导入测试甲"], [other.number, "导入测试乙"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, "number"), (3, "number")]


def test_rows_without_identifiers_match_by_name(users, uploader):
    make_customer(users.am1, name="导入测试（示范）有限公司")
    rows = [["客户名称", "地址"], ["导入测试(示范)有限责任公司", "新地址"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["rows"]["updated"] == 1 and imported() == 1


def test_the_match_key_is_configurable(users, uploader):
    existing = make_customer(users.am1, name="导入测试甲", credit_code=credit_code(9801))
    rows = [["客户名称", "统一社会信用代码"], ["导入测试甲", existing.credit_code]]
    up = uploader(users.am1)

    by_number_only = up.upload(csv_bytes(rows), commit=True, match="number").json()
    by_default = up.upload(csv_bytes(rows), commit=True).json()

    assert by_number_only["state"] == "invalid"  # not matched, so a new customer with a taken credit code
    assert by_number_only["errors"][0]["field"] == "credit_code"
    assert by_default["state"] == "done" and by_default["rows"]["unchanged"] == 1


def test_it_does_not_update_customers_it_cannot_see_by_name(users, uploader):
    make_customer(users.am3, name="导入测试别人的")
    rows = [["客户名称"], ["导入测试别人的"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["rows"]["created"] == 1  # am1 cannot see am3's customer: a new one of am1's
    assert Customer.objects.filter(name="导入测试别人的").count() == 2


def test_existing_contacts_are_matched_by_mobile(users, uploader):
    customer = make_customer(users.am1, name="导入测试甲", credit_code=credit_code(9901))
    make_contact(users.am1, customer, name="老王", mobile="13800138000")
    rows = [["统一社会信用代码", "联系人", "手机", "职务"], [customer.credit_code, "王大明", "13800138000", "经理"]]

    job = uploader(users.am1).upload(csv_bytes(rows), commit=True).json()

    assert job["summary"] == {"contacts_created": 0, "contacts_updated": 1, "contacts_unchanged": 0}
    contact = customer.contacts.get()
    assert (contact.name, contact.title, contact.version, contact.primary) == ("王大明", "经理", 2, True)


# --- preview, commit, mapping ----------------------------------------------------------------------------------


def test_without_commit_it_validates_then_commits_on_request(users, uploader):
    up = uploader(users.am1)
    job = up.upload(csv_bytes([HEADERS, *good_rows(2)])).json()
    assert job["state"] == "ready" and imported() == 0
    assert job["rows"]["created"] == 2
    assert [row["action"] for row in job["preview"]] == ["create", "create"]
    assert job["preview"][0]["values"]["name"] == "导入测试1有限公司"

    response = up.commit(job["id"])

    assert response.status_code == 202 and response.json()["state"] == "done"
    assert imported() == 2
    assert up.commit(job["id"]).status_code == 409  # done once, and only once


def test_a_job_with_errors_cannot_be_committed(users, uploader):
    up = uploader(users.am1)
    job = up.upload(csv_bytes([HEADERS, ["", "", "", "", "", "", "", "", ""]])).json()

    assert job["state"] == "invalid" and job["errors"][0]["message"]

    response = up.commit(job["id"])

    assert response.status_code == 409 and imported() == 0


def test_commit_checks_the_rows_again(users, uploader):
    up = uploader(users.am1)
    rows = good_rows(1)
    job = up.upload(csv_bytes([HEADERS, *rows])).json()
    make_customer(users.am3, name="抢先", credit_code=rows[0][1])  # someone else takes the credit code meanwhile

    result = up.commit(job["id"]).json()

    assert result["state"] == "invalid" and result["errors"][0]["field"] == "credit_code"
    assert imported() == 0


def test_a_custom_mapping_is_applied_and_remembered(users, uploader):
    rows = [["公司全称", "备注"], ["导入测试映射公司", "随便"]]
    up = uploader(users.am1)
    refused = up.upload(csv_bytes(rows))
    assert refused.status_code == 422 and "mapping" in errors_by_field(refused)

    job = up.upload(csv_bytes(rows), mapping='{"公司全称": "name"}', commit=True).json()
    again = up.upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "done" and job["mapping"] == {"公司全称": "name", "备注": ""}
    assert again["mapping"]["公司全称"] == "name" and again["rows"]["unchanged"] == 1


def test_the_mapping_can_be_changed_and_validated_again(users, uploader):
    rows = [["名称", "信用"], ["导入测试甲", credit_code(9911)]]
    up = uploader(users.am1)
    job = up.upload(csv_bytes(rows)).json()
    assert job["mapping"] == {"名称": "name", "信用": ""}

    response = up.client.post(
        f"/api/v1/imports/{job['id']}/mapping", {"mapping": {"信用": "credit_code"}}, content_type="application/json"
    )

    assert response.status_code == 202
    assert response.json()["state"] == "ready" and response.json()["mapping"]["信用"] == "credit_code"


# --- API errors and permissions --------------------------------------------------------------------------------


def test_a_service_agent_cannot_import(users, uploader):
    response = uploader(users.agent1).upload(csv_bytes([HEADERS, *good_rows(1)]), commit=True)

    assert response.status_code == 403
    assert not ImportJob.objects.exists() and imported() == 0


def test_the_api_names_the_bad_field(users, uploader):
    up = uploader(users.am1)
    good = csv_bytes([HEADERS, *good_rows(1)])

    cases = {
        "kind": up.client.post("/api/v1/imports", {"file": _file(good)}),
        "file": up.client.post("/api/v1/imports", {"kind": "customers"}),
        "mapping": up.upload(good, mapping="{not json"),
        "match": up.upload(good, match="colour"),
    }
    cases["kind "] = up.upload(good, kind="planets")
    cases["file "] = up.upload(b"\x89PNG\r\n\x1a\n", name="photo.png")
    cases["mapping "] = up.upload(good, mapping='{"不存在的列": "name"}')
    cases["mapping  "] = up.upload(good, mapping='{"客户名称": "colour"}')

    for field, response in cases.items():
        assert response.status_code == 422, (field, response.content)
        assert field.strip() in errors_by_field(response), (field, response.json())
    assert not ImportJob.objects.exists()


def test_someone_elses_job_is_not_found(users, uploader):
    job = uploader(users.am1).upload(csv_bytes([HEADERS, *good_rows(1)])).json()

    assert uploader(users.am2).client.get(f"/api/v1/imports/{job['id']}").status_code == 404
    assert uploader(users.am2).commit(job["id"]).status_code == 404
    assert uploader(users.admin).client.get(f"/api/v1/imports/{job['id']}").status_code == 200


def test_a_user_who_may_add_but_not_change_customers_cannot_update_them(users, uploader):
    existing = make_customer(users.am1, name="导入测试甲", credit_code=credit_code(9921))
    users.analyst1.user_permissions.add(Permission.objects.get(codename="add_customer"))
    rows = [["客户名称", "统一社会信用代码"], ["导入测试新名", existing.credit_code], ["导入测试乙", credit_code(9922)]]

    job = uploader(fresh(users.analyst1)).upload(csv_bytes(rows), commit=True).json()

    assert job["state"] == "invalid"
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, "name")]
    assert imported() == 1


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.csv", content)


def test_region_and_category_names_resolve_or_explain(users, uploader):
    rows = [["客户名称", "区域", "客户分类"], ["导入测试甲", "火星", "不存在"], ["导入测试乙", "龙沙区", "大工业"]]

    job = uploader(users.am1).upload(csv_bytes(rows)).json()

    assert [(e["row"], e["field"]) for e in job["errors"]] == [(2, "region"), (2, "category")]
