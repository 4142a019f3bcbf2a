from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases.services.tokens import api_token_create
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory


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


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumora")


@pytest.fixture
def case(brand):
    return CaseFactory(brand=brand, asin="B0C1HJ4K2L", title="Desk lamp")


def error_of(response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    return body["error"]


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
