"""The import pages: upload → mapping → validation → preview → commit, progress fragment, error report."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from guanxi.customers.models import Customer
from guanxi.imports.models import ImportJob, ImportMapping
from tests.conftest import credit_code
from tests.imports.helpers import csv_bytes


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, rows: list[list], kind: str = "customers"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile("客户.csv", csv_bytes(rows))})


ROWS = [
    ["公司名称", "统一社会信用代码", "联系人", "手机", "备注"],
    ["页面导入有限公司", credit_code(6101), "王五", "13800138000", "x"],
]


def test_the_list_page_shows_the_upload_form_and_the_jobs(users):
    client = signed_in(users.am1)
    upload(client, ROWS)

    page = client.get("/imports/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="file"' in html and "客户.csv" in html and "/imports/template/customers.xlsx" in html


def test_upload_then_map_then_commit(users):
    client = signed_in(users.am1)

    response = upload(client, ROWS)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert job.state == "mapping" and not Customer.objects.exists()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    # Recognised headers are pre-selected; the unknown one is ignored until the user says otherwise.
    assert re.search(r'name="column-0".*?<option value="name" selected>', page, re.S)
    assert re.search(r'name="column-3".*?<option value="contact_mobile" selected>', page, re.S)
    assert "页面导入有限公司" in page  # sample values beside the columns

    mapping = {"column-0": "name", "column-1": "credit_code", "column-2": "contact_name", "column-3": "contact_mobile"}
    mapped = client.post(
        f"/imports/{job.pk}/mapping/", {**mapping, "column-4": "", "match-shown": "1", "match": ["credit_code", "name"]}
    )

    job.refresh_from_db()
    assert mapped.status_code == 302 and job.state == "ready"
    assert job.options["match"] == ["credit_code", "name"]
    assert ImportMapping.objects.get(user=users.am1, kind="customers").columns["公司名称"] == "name"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "页面导入有限公司" in page and f"/imports/{job.pk}/commit/" in page

    committed = client.post(f"/imports/{job.pk}/commit/")

    job.refresh_from_db()
    assert committed.status_code == 302 and job.state == "done"
    assert Customer.objects.get().name == "页面导入有限公司"


def test_a_file_with_errors_shows_them_and_offers_the_report(users):
    client = signed_in(users.am1)
    upload(client, [["客户名称", "统一社会信用代码"], ["坏行", "123"]])
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.pk}/mapping/", {"column-0": "name", "column-1": "credit_code"})

    page = client.get(f"/imports/{job.pk}/").content.decode()
    report = client.get(f"/imports/{job.pk}/errors.xlsx")

    assert "统一社会信用代码" in page and f"/imports/{job.pk}/errors.xlsx" in page
    assert f"/imports/{job.pk}/commit/" not in page
    rows = list(load_workbook(io.BytesIO(report.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:3] == (2, "坏行", "123")


def test_the_progress_fragment_polls_while_running_and_reloads_when_done(users):
    client = signed_in(users.am1)
    upload(client, ROWS)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="validating", estimated_rows=1000, processed_rows=250)

    running = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    page = client.get(f"/imports/{job.pk}/")
    ImportJob.objects.filter(pk=job.pk).update(state="ready")
    finished = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")

    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in running.content.decode() and 'aria-valuenow="25"' in running.content.decode()
    assert 'id="progress"' in page.content.decode()
    assert finished.status_code == 204 and finished["HX-Refresh"] == "true"


def test_a_failed_job_can_be_retried_from_its_page(users):
    client = signed_in(users.am1)
    upload(client, ROWS)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="failed", error_message="工作进程已停止", commit_requested=True)

    page = client.get(f"/imports/{job.pk}/").content.decode()
    client.post(f"/imports/{job.pk}/retry/")

    job.refresh_from_db()
    assert "工作进程已停止" in page and f"/imports/{job.pk}/retry/" in page
    assert job.state == "done" and Customer.objects.count() == 1


def test_upload_errors_are_shown_beside_the_field(users):
    client = signed_in(users.am1)

    response = client.post("/imports/", {"kind": "customers"})

    assert response.status_code == 422
    assert 'data-field="file"' in response.content.decode()


def test_a_service_agent_may_not_upload(users):
    client = signed_in(users.agent1)

    page = client.get("/imports/")
    response = upload(client, ROWS)

    assert page.status_code == 200 and 'name="file"' not in page.content.decode()
    assert response.status_code == 403 and not ImportJob.objects.exists()
    assert client.get("/imports/template/customers.xlsx").status_code == 403


def test_someone_elses_job_page_is_not_found(users):
    upload(signed_in(users.am1), ROWS)
    job = ImportJob.objects.get()
    client = signed_in(users.am2)

    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/progress/", f"/imports/{job.pk}/errors.xlsx"):
        assert client.get(url).status_code == 404
    assert client.post(f"/imports/{job.pk}/commit/").status_code == 404


def test_the_template_names_every_field_in_the_users_language(users):
    response = signed_in(users.am1).get("/imports/template/customers.xlsx")

    headers = next(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert "统一社会信用代码" in headers and "名称" in headers


def test_the_pages_need_a_login():
    assert Client().get("/imports/").status_code == 302
