from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Response
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.factories import BrandFactory, CaseFactory


@pytest.fixture
def brand(personas):
    return BrandFactory(team=personas.team, name="Lumora")


@pytest.fixture
def case(brand):
    return CaseFactory(brand=brand, asin="B0C1HJ4K2L", title="Desk lamp")


@pytest.fixture
def conforms(client: Any) -> Callable[[Any], None]:
    """Check a test client's answer against the served OpenAPI schema (status, media type and body)."""
    schema = schemathesis.openapi.from_dict(client.get("/api/schema/?format=json").json())

    def check(response: Any) -> None:
        request = response.wsgi_request
        content = b"".join(response.streaming_content) if response.streaming else response.content
        answer = Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.headers.items()},
            content=content,
            request=requests.Request(request.method, request.build_absolute_uri()).prepare(),
            elapsed=0.0,
            verify=True,
        )
        operation = schema.find_operation_by_path(request.method, request.path)
        assert operation is not None, request.path
        case = operation.Case()
        status_code_conformance(None, answer, case)
        content_type_conformance(None, answer, case)
        operation.validate_response(answer)

    return check
