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


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_broker_is_down_is_left_to_its_sweeper(monkeypatch, caplog):
    """The request that committed the job succeeds; the message is dropped with a warning."""
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from cases.tasks import dossier_build_task

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(dossier_build_task, "apply_async", broker_down)
    with transaction.atomic():
        dossier_build_task.delay_on_commit(1)
    assert "left to its sweeper" in caplog.text


def test_the_cache_counts_in_process_while_redis_is_unreachable(free_port_redis_url):
    from casemanager.cache import ResilientRedisCache

    cache = ResilientRedisCache(free_port_redis_url, {"OPTIONS": {"socket_connect_timeout": 0.2}})
    assert cache.add("attempts", 0, timeout=60)
    assert cache.incr("attempts") == 1
    assert cache.get("attempts") == 1
    cache.delete("attempts")
    assert cache.get("attempts") is None


@pytest.fixture
def free_port_redis_url():
    """A Redis URL where nothing listens."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.mark.redis
def test_the_cache_uses_redis_when_it_answers():
    from casemanager.cache import ResilientRedisCache

    cache = ResilientRedisCache(settings.REDIS_URL, {})
    key = f"probe-{os.getpid()}"
    cache.set(key, 41, timeout=30)
    assert cache.incr(key) == 42
    assert cache._fallback.get(key) is None
    cache.delete(key)
