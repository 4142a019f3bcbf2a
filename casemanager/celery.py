"""The Celery app. Without REDIS_URL tasks run in-process (embedded mode)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemanager.settings")

app = Celery("casemanager")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
