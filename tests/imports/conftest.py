"""Fixtures of the import tests."""

import pytest

from guanxi.celery import app as celery_app
from tests.imports.helpers import Uploader


@pytest.fixture
def uploader():
    return lambda user: Uploader(user)


@pytest.fixture
def eager_celery():
    """Tasks run in the caller's process: for tests about the import logic, not about the worker."""
    celery_app.conf.task_always_eager = True
    yield celery_app
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
