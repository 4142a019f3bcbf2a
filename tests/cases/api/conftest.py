from __future__ import annotations

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
