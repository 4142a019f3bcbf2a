"""Fault tests run the deployment as separate processes (gunicorn, Celery workers) against
the test database and a Redis of their own, which they stop, restart and wipe."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from cases.services.tokens import api_token_create
from evidence.services import Actor
from tests.conftest import eventually
from tests.support.stack import ROOT, PrivateRedis, Stack, database_url_of_tests, production_environment


@pytest.fixture
def private_redis(tmp_path: Any) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.directory.mkdir()
    try:
        server.start()
        yield server
    finally:
        if server.process is not None:
            server.stop()


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: Any) -> Any:
    """A VAR_DIR with the collected static files that production settings serve."""
    folder = tmp_path_factory.mktemp("var")
    environment = production_environment(
        database_url="postgres://collectstatic@127.0.0.1:9/none",
        redis_url="redis://127.0.0.1:9/0",
        evidence_root=folder,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**environment, "VAR_DIR": str(folder)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def stack(private_redis: PrivateRedis, settings: Any, var_dir: Any) -> Iterator[Stack]:
    settings.ALLOW_PRIVATE_URLS = True
    environment = production_environment(
        database_url=database_url_of_tests(), redis_url=private_redis.url, evidence_root=settings.EVIDENCE_ROOT
    )
    deployment = Stack({**environment, "VAR_DIR": str(var_dir)})
    try:
        yield deployment
    finally:
        deployment.stop()


def bearer(user: Any) -> dict[str, str]:
    _, raw = api_token_create(user=user, name="faults", actor=Actor.of_user(user))
    return {"Authorization": f"Bearer {raw}"}


class PlainHttpSession(requests.Session):
    """A browser on plain HTTP: it sends back the cookies production marks Secure, which is
    what the TLS proxy in front of gunicorn would make possible."""

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        for cookie in response.cookies:
            self.cookies.set(cookie.name, None)  # drops the Secure copy
            self.cookies.set(cookie.name, cookie.value)
        return response


def signed_in(stack: Stack, username: str, password: str) -> requests.Session:
    """A browser-like session signed in through the sign-in page."""
    session = PlainHttpSession()
    session.get(f"{stack.url}/accounts/login/", timeout=30)
    response = session.post(
        f"{stack.url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{stack.url}/accounts/login/"},
        timeout=30,
        allow_redirects=False,  # the cookies are fixed up between hops only when they come back here
    )
    assert response.status_code == 302, response.text[-2000:]
    return session


def finished(model: Any, ids: list[int], *, field: str = "status", value: str = "done", timeout: float = 120) -> None:
    eventually(
        lambda: model.objects.filter(pk__in=ids, **{field: value}).count() == len(ids),
        timeout=timeout,
        what=f"{len(ids)} {model.__name__} rows to reach {value}",
    )
