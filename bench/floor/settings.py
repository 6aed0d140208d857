"""Minimal settings: one app, no middleware, persistent connections, the same DATABASE_URL as Guanxi."""

import os

import dj_database_url

SECRET_KEY = "floor-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = ["floor"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "floor.urls"
WSGI_APPLICATION = "floor.wsgi.application"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/guanxi_bench"), conn_max_age=None
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_I18N = False
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
