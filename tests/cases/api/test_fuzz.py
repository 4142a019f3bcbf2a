"""Schema-driven fuzzing of the whole API against a live server: no 5xx, no schema violations."""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cases.services.tokens import api_token_create
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, sight

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture
def fuzz_target(live_server, personas):
    """A live server with a little data, and a manager's token (so writes are tried too)."""
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    sight(case, attach(case, 1, name="深圳市好运来贸易有限公司"))
    add_evidence(case)
    _, token = api_token_create(user=personas.manager, name="fuzz", actor=Actor.of_user(personas.manager))
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    return schema, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_schema(fuzz_target):
    return fuzz_target[0]


@pytest.fixture
def auth_headers(fuzz_target):
    return fuzz_target[1]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
@pytest.mark.django_db(transaction=True)
def test_api_never_fails_on_any_input(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=[not_a_server_error, response_schema_conformance])


@pytest.mark.django_db(transaction=True)
def test_the_fuzz_target_is_authenticated_and_has_data(fuzz_target, live_server):
    """Guards the run above: 401s everywhere would pass it without testing anything."""
    _, headers = fuzz_target
    response = requests.get(f"{live_server.url}/api/v1/cases/", headers=headers, timeout=10)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
