"""The production stack as separate processes, for fault tests.

gunicorn and Celery workers run with production settings (DEBUG=false) against the test
database, and against a Redis and (when asked) a PostgreSQL of the test's own, which it can
stop, restart and wipe without touching the machine's services that other tests use.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from cryptography.fernet import Fernet
from django.conf import settings

from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free port below Linux's ephemeral range, so that while a server of the test is
    stopped, no client's outgoing connection can take its port before it starts again."""
    while True:
        port = random.randrange(20000, 32000)  # noqa: S311 (a port, not a secret)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@dataclass
class PrivateRedis:
    """A Redis that appends every write to disk, so a restart keeps its queue unless wiped."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        eventually(ready, what="the private Redis to start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process = None

    def wipe(self) -> None:
        """What a Redis without persistence, or a replaced one, comes back with: nothing."""
        assert self.process is None, "stop it first"
        shutil.rmtree(self.directory / "appendonlydir", ignore_errors=True)

    def queued(self, task: str) -> int:
        """How many messages for ``task`` wait in the default queue."""
        messages = redis.Redis.from_url(self.url).lrange("celery", 0, -1)
        return sum(json.loads(message)["headers"]["task"] == task for message in messages)


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, run as the postgres user, on its own port."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="cm-pg-"))
        self.port = free_port()
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        self.pg_ctl = f"{bindir}/pg_ctl"
        shutil.chown(self.directory, "postgres")
        # pg_ctl detaches the server: stop it even if the test run is cut short.
        atexit.register(self.remove)
        self._as_postgres([f"{bindir}/initdb", "-D", str(self.directory / "data"), "-U", "postgres", "-A", "trust"])

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/casemanager"

    def _as_postgres(self, command: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        data = str(self.directory / "data")
        log = str(self.directory / "log")
        self._as_postgres([self.pg_ctl, "-D", data, "-l", log, "-o", options, "-m", "fast", "-w", action])

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as db:
            db.execute("CREATE DATABASE casemanager")

    def remove(self) -> None:
        if (self.directory / "data" / "postmaster.pid").exists():
            self._ctl("stop")
        shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.remove)


def production_environment(*, database_url: str, redis_url: str, evidence_root: Path) -> dict[str, str]:
    """Production settings with throw-away secrets, plain HTTP on loopback, local test hosts allowed."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casemanager.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # The test process's own key, so that its verify_audit agrees with the stack's rows.
        "AUDIT_KEY": str(settings.AUDIT_KEY),
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EVIDENCE_ROOT": str(evidence_root),
        "ALLOW_PRIVATE_URLS": "true",
        "API_RATE": "1000000/min",
        "LOG_LEVEL": "ERROR",
    }


@dataclass
class Stack:
    """gunicorn and Celery workers sharing one environment; stopped when the test ends."""

    env: dict[str, str]
    web: subprocess.Popen[bytes] | None = None
    port: int = 0
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # What the test put in its database (IDs, a token), when the database is the stack's own.
    seed: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, *, processes: int = 2) -> None:
        self.port = free_port()
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "casemanager.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(processes),
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        eventually(lambda: _answers(self.port), what="gunicorn to listen")

    def worker(self) -> subprocess.Popen[bytes]:
        hostname = f"fault-{os.getpid()}-{len(self.workers)}@localhost"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "casemanager",
                "worker",
                "--pool=solo",
                f"--hostname={hostname}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        self.workers.append(process)
        return process

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A management command in the deployment's environment (as cron would run it)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )

    def stop(self) -> None:
        for process in [*self.workers, *([self.web] if self.web else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, *([self.web] if self.web else [])]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.workers.clear()


def database_url_of_tests() -> str:
    """The pytest-django test database, as a URL the stack's processes can use."""
    from django.db import connection

    db: dict[str, Any] = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
