"""Uploads: size limit, type checked by content, stored outside anything a URL serves, served to users in scope only."""

import io
import stat
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.imports.models import ImportJob
from tests.conftest import errors_by_field
from tests.imports.helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [["客户名称", "地址"], ["上传测试有限公司", "北京"]]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(user, content: bytes, name: str):
    client = Client()
    client.force_login(user)
    return client.post("/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile(name, content)})


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_real_files_are_accepted(users):
    assert _upload(users.am1, xlsx_bytes(ROWS), "a.xlsx").status_code == 201
    assert _upload(users.am1, csv_bytes(ROWS, encoding="gb18030"), "a.csv").status_code == 201
    assert _upload(users.am1, csv_bytes(ROWS), "no-suffix").status_code == 201


@pytest.mark.parametrize(
    "content, name",
    [
        (_zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}), "a.xlsx"),  # a .docx renamed
        (_zip({"evil.sh": b"rm -rf /"}), "a.xlsx"),
        (b"PK\x03\x04 not really a zip", "a.xlsx"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.csv"),  # a picture renamed .csv
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "a.csv"),
        ("客户名称,地址\n某公司,\x00\x00\n".encode(), "a.csv"),
        (b"%PDF-1.7\n", "a.pdf"),
    ],
)
def test_files_are_checked_by_content_not_by_name(users, content, name):
    response = _upload(users.am1, content, name)

    assert response.status_code == 422, response.content
    assert "file" in errors_by_field(response)
    assert not ImportJob.objects.exists()
    assert not list(Path(django_settings.MEDIA_ROOT).rglob("*.*"))  # nothing left behind


def test_a_zip_bomb_is_refused_before_parsing(users, settings):
    settings.GUANXI_UPLOAD_MAX_UNPACKED_BYTES = 1_000_000
    bomb = io.BytesIO(xlsx_bytes(ROWS))
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\x00" * 5_000_000)  # ~5 KB packed, 5 MB unpacked

    response = _upload(users.am1, bomb.getvalue(), "a.xlsx")

    assert response.status_code == 422
    assert "file" in errors_by_field(response)


def test_the_size_limit_is_a_setting(users, settings):
    settings.GUANXI_IMPORT_MAX_BYTES = 100
    response = _upload(users.am1, csv_bytes(ROWS * 20), "a.csv")

    assert response.status_code == 422
    assert "file" in errors_by_field(response)


def test_stored_files_are_outside_every_served_directory(users):
    job_id = _upload(users.am1, csv_bytes(ROWS), "a.csv").json()["id"]
    path = Path(ImportJob.objects.get(pk=job_id).file.path).resolve()

    assert path.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(django_settings.STATIC_ROOT).resolve())
    assert not path.is_relative_to(Path(django_settings.BASE_DIR).resolve())  # not in the package (app static)
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0  # readable by Guanxi's user only
    client = Client()
    client.force_login(users.am1)
    relative = path.relative_to(Path(django_settings.MEDIA_ROOT).resolve()).as_posix()
    for url in (f"/{django_settings.MEDIA_URL}{relative}", f"/media/{relative}", f"/static/{relative}"):
        assert client.get(url).status_code == 404, url


def test_an_upload_and_its_report_reach_only_users_in_scope(users):
    content = csv_bytes([["客户名称", "统一社会信用代码"], ["某公司", "BAD"]])
    job_id = _upload(users.am1, content, "a.csv").json()["id"]

    def client(user):
        c = Client()
        c.force_login(user)
        return c

    assert client(users.am1).get(f"/imports/{job_id}/errors.xlsx").status_code == 200
    assert client(users.am1).get(f"/api/v1/imports/{job_id}/errors.xlsx").status_code == 200
    for outsider in (users.am3, users.am2, users.agent1):
        assert client(outsider).get(f"/imports/{job_id}/errors.xlsx").status_code == 404
        assert client(outsider).get(f"/api/v1/imports/{job_id}/errors.xlsx").status_code == 404
        assert client(outsider).get(f"/imports/{job_id}/").status_code == 404
        assert client(outsider).get(f"/api/v1/imports/{job_id}").status_code == 404
