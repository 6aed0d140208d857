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
