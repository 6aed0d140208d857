"""The Celery application. Broker: Redis when REDIS_URL is set, else the embedded SQLite broker (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

app = Celery("guanxi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
