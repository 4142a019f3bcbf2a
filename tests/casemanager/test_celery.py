import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from casemanager.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
@pytest.mark.worker
def test_a_real_worker_answers_on_the_configured_broker(celery_worker):
    """With REDIS_URL set, tasks leave the process: a worker started from the project answers."""
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    assert app.control.ping(timeout=2.0)


def test_embedded_mode_runs_tasks_in_process():
    result = run_settings_probe({})
    assert result == "True memory://"


def run_settings_probe(extra):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='casemanager.settings'; django.setup();"
        "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
