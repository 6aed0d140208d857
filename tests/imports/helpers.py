"""Helpers of the import tests: files built in memory (CSV, XLSX, vCard) and an uploader speaking to the API."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook


def csv_bytes(rows: list[list], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], *, title_rows: list[list] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in [*(title_rows or []), *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class Uploader:
    """POST /api/v1/imports as a signed-in user (multipart), then read the job."""

    def __init__(self, user):
        self.client = Client()
        self.client.force_login(user)

    def upload(self, content: bytes, name: str = "customers.csv", kind: str = "customers", **fields):
        data = {"kind": kind, "file": SimpleUploadedFile(name, content)}
        data.update({key: ("true" if value is True else value) for key, value in fields.items()})
        return self.client.post("/api/v1/imports", data)

    def job(self, job_id: int, **params):
        return self.client.get(f"/api/v1/imports/{job_id}", params).json()

    def commit(self, job_id: int):
        return self.client.post(f"/api/v1/imports/{job_id}/commit")


def big_customer_csv(count: int, *, start: int = 0) -> bytes:
    """`count` valid customers with one contact each, in the column layout people export from other CRMs."""
    from stdnum.cn import uscc

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["客户名称", "统一社会信用代码", "客户类型", "联系人", "手机", "地址", "区域", "等级", "标签"])
    for n in range(start, start + count):
        body = f"91230202{n:08d}X"
        writer.writerow(
            [
                f"批量导入客户{n:06d}有限公司",
                body + uscc.calc_check_digit(body),
                "企业",
                f"联系人{n:06d}",
                f"139{n:08d}",
                f"龙沙区建华路{n % 1000}号",
                "230202",
                ("重点", "潜力", "一般")[n % 3],
                "导入" if n % 10 == 0 else "",
            ]
        )
    return buffer.getvalue().encode("utf-8")
