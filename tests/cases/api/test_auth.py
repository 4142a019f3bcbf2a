import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.api.auth import token_hash
from cases.models import ApiToken
from cases.services.tokens import api_token_revoke
from evidence.services import Actor
from tests.conftest import client_for, error_of

pytestmark = pytest.mark.django_db


def test_no_token_is_401_with_the_error_shape(case):
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_token_is_refused(case):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cm_not-a-real-token")
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_only_a_hash_is_stored_and_last_use_is_recorded(personas):
    out = io.StringIO()
    call_command("apitoken", "agent", "--name", "Jira", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("cm_")
    token = ApiToken.objects.get(name="Jira")
    assert token.key_hash == token_hash(raw)
    assert raw not in {token.key_hash, token.prefix}
    assert token.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/cases/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_token_is_refused_at_once(personas, case):
    client = client_for(personas.agent)
    assert client.get("/api/v1/cases/").status_code == 200
    token = ApiToken.objects.filter(user=personas.agent).latest("created_at")
    api_token_revoke(token=token, actor=Actor.of_user(personas.agent))
    assert client.get("/api/v1/cases/").status_code == 401


def test_session_calls_need_csrf(personas, brand):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas.agent)
    assert client.get("/api/v1/cases/").status_code == 200
    response = client.post("/api/v1/cases/", {"brand": brand.pk, "asin": "B0C1HJ4K2L", "marketplace": "US"})
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]


def test_token_rate_limit_answers_429_with_retry_after(settings, personas, case):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/min"}}
    client = client_for(personas.viewer)
    for _ in range(3):
        assert client.get("/api/v1/cases/").status_code == 200
    response = client.get("/api/v1/cases/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert error_of(response)["code"] == "throttled"
    assert client_for(personas.viewer).get("/api/v1/cases/").status_code == 200, "another token has its own rate"


def test_token_page_creates_shows_once_and_revokes(client, personas):
    client.force_login(personas.agent)
    response = client.post("/settings/tokens/", {"name": "Zendesk"})
    raw = response.context["new_token"]
    assert raw.startswith("cm_")
    assert raw in response.content.decode()
    listing = client.get("/settings/tokens/").content.decode()
    assert "Zendesk" in listing
    assert raw not in listing
    token = ApiToken.objects.get(name="Zendesk")
    client.post("/settings/tokens/", {"revoke": token.pk})
    token.refresh_from_db()
    assert not token.is_active
    client.force_login(personas.outsider)
    assert client.post("/settings/tokens/", {"revoke": token.pk}).status_code == 404


def test_guessing_tokens_is_slowed_down(settings, case):
    settings.API_AUTH_FAILURES_PER_MINUTE = 3
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cm_guess")
    assert [client.get("/api/v1/cases/").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert int(client.get("/api/v1/cases/")["Retry-After"]) > 0


def test_sweep_command_runs_every_sweeper(capsys, db):
    call_command("sweep")
    assert "re-queued" in capsys.readouterr().out
