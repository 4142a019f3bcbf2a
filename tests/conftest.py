from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from cases.models import Role
from cases.services.tokens import api_token_create
from evidence.services import Actor
from tests import factories


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked for a real service skip without it, except in CI where they fail."""
    needs = {
        "postgres": django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "redis": bool(django_settings.REDIS_URL),
    }
    for marker, available in needs.items():
        if item.get_closest_marker(marker) and not available:
            message = f"needs the real {marker} service ({'DATABASE_URL' if marker == 'postgres' else 'REDIS_URL'})"
            if _in_ci():
                pytest.fail(f"{message}, which CI must provide")
            pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_evidence(settings: Any, tmp_path: Any) -> None:
    """Each test stores evidence in its own folder; passwords hash fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    root = tmp_path / "evidence"
    settings.EVIDENCE_ROOT = root
    settings.FILE_UPLOAD_TEMP_DIR = root / ".staging"
    (root / ".staging").mkdir(parents=True)
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": "evidence.storage.AtomicFileSystemStorage", "OPTIONS": {"location": root}},
    }


@pytest.fixture(autouse=True)
def _in_process_tasks_and_private_cache(settings: Any, request: pytest.FixtureRequest) -> Any:
    """Tasks run in-process and rate counters start empty, unless a test asks for a real worker."""
    from casemanager.celery import app

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    yield
    app.conf.task_always_eager = previous


@dataclass
class Personas:
    """One team with a member of each role, and an outsider who belongs to another team."""

    team: Any
    manager: Any
    agent: Any
    viewer: Any
    outsider: Any
    outsider_team: Any


@pytest.fixture
def personas(db: None) -> Personas:
    manager = factories.UserFactory(username="manager")
    team = factories.TeamFactory(creator=manager)
    agent = factories.MemberFactory(team=team, role=Role.AGENT, username="agent")
    viewer = factories.MemberFactory(team=team, role=Role.VIEWER, username="viewer")
    outsider = factories.UserFactory(username="outsider")
    outsider_team = factories.TeamFactory(creator=outsider, name="Other agency")
    return Personas(team, manager, agent, viewer, outsider, outsider_team)


def eventually(check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Wait for an asynchronous result (a worker's write), checking every 50 ms; fail at the timeout."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        pause.wait(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Workers:
    """Real Celery worker processes on the configured Redis, using the test database."""

    settings: Any
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        from django.db import connection

        from casemanager.celery import app

        db = connection.settings_dict
        database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        hostname = f"test-{os.getpid()}-{len(self.started)}@localhost"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ALLOW_PRIVATE_URLS": "true" if self.settings.ALLOW_PRIVATE_URLS else "false",
            "EVIDENCE_ROOT": str(self.settings.EVIDENCE_ROOT),
        }
        if not self.started:
            app.control.purge()  # nothing left over from an earlier run
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "casemanager",
                "worker",
                "--pool=solo",
                "--queues=celery,sqs",
                f"--hostname={hostname}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.started.append(worker)
        eventually(lambda: app.control.ping(destination=[hostname], timeout=0.5), what="the worker to answer")
        return worker


@pytest.fixture
def workers(settings: Any) -> Iterator[Workers]:
    started = Workers(settings)
    try:
        yield started
    finally:
        for worker in started.started:
            worker.terminate()
        for worker in started.started:
            worker.wait(timeout=30)


@pytest.fixture
def celery_worker(workers: Workers) -> subprocess.Popen[bytes]:
    """One real Celery worker process."""
    return workers.start()


@dataclass
class Receiver:
    """A real HTTP server on loopback that records webhook deliveries."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got = state["receiver"]
            got.requests.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
            status = got.statuses.pop(0) if got.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"boom" * 500)
            got.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


def client_for(user: Any) -> APIClient:
    _, raw = api_token_create(user=user, name="tests", actor=Actor.of_user(user))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(personas):
    """A bearer-token client per persona: api.manager, api.agent, api.viewer, api.outsider."""

    class Clients:
        manager = client_for(personas.manager)
        agent = client_for(personas.agent)
        viewer = client_for(personas.viewer)
        outsider = client_for(personas.outsider)

    return Clients


def error_of(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]
