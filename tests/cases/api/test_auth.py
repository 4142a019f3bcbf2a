import http.client
import io

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.api.auth import token_hash
from cases.api.base import TokenRateThrottle
from cases.models import ApiToken
from cases.services.tokens import api_token_create, api_token_revoke
from evidence.services import Actor
from tests.conftest import client_for, error_of
from tests.support.stack import Stack, database_url_of_tests, production_environment

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


def test_a_burst_across_the_edge_of_a_minute_does_not_double_the_rate(settings, personas, case, monkeypatch):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/min"}}
    client = client_for(personas.viewer)
    clock = {"now": 60_000.0 + 59}  # the last second of a minute
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: clock["now"])
    assert [client.get("/api/v1/cases/").status_code for _ in range(3)] == [200, 200, 200]
    clock["now"] += 2  # the first seconds of the next minute: the last one still counts in full
    assert client.get("/api/v1/cases/").status_code == 429
    clock["now"] += 57  # most of that minute has passed
    assert client.get("/api/v1/cases/").status_code == 200


def test_a_client_that_keeps_above_the_rate_still_gets_the_rate(settings, personas, case, monkeypatch):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "6/min"}}
    client = client_for(personas.viewer)
    clock = {"now": 60_000.0}
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: clock["now"])
    accepted_per_minute = []
    for _minute in range(4):
        accepted = 0
        for _ in range(12):  # twice the rate, evenly spread
            accepted += client.get("/api/v1/cases/").status_code == 200
            clock["now"] += 5
        accepted_per_minute.append(accepted)
    assert accepted_per_minute[0] == 6
    assert all(5 <= accepted <= 6 for accepted in accepted_per_minute[1:]), accepted_per_minute


def test_retry_after_is_when_a_request_fits_again(settings, personas, case, monkeypatch):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/min"}}
    client = client_for(personas.viewer)
    clock = {"now": 60_000.0 + 30}
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: clock["now"])
    for _ in range(3):
        client.get("/api/v1/cases/")
    refused = client.get("/api/v1/cases/")
    assert refused.status_code == 429
    clock["now"] += int(refused["Retry-After"])
    assert client.get("/api/v1/cases/").status_code == 200


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


@pytest.fixture
def two_workers(settings, db):
    """Two gunicorn processes on production settings, as two workers behind one address.

    They share nothing but PostgreSQL and Redis: whatever one of them remembers in its own
    memory the other does not know.
    """
    environment = production_environment(
        database_url=database_url_of_tests(), redis_url=settings.REDIS_URL, evidence_root=settings.EVIDENCE_ROOT
    )
    servers = [Stack({**environment, "API_RATE": "3/min"}) for _ in range(2)]
    try:
        for server in servers:
            server.serve(processes=1)
        yield [server.port for server in servers]
    finally:
        for server in servers:
            server.stop()


def _get(port: int, path: str, token: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        return connection.getresponse().status
    finally:
        connection.close()


def _fresh_token(user) -> tuple[ApiToken, str]:
    token, raw = api_token_create(user=user, name="worker test", actor=Actor.of_user(user))
    # Test databases restart their IDs: an earlier run's count for this token ID, kept in the
    # Redis the gunicorn workers share, must not linger.
    shared = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in shared.scan_iter(f"*throttle_*_token:{token.pk}:*"):
        shared.delete(key)
    return token, raw


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_token_revoked_on_the_web_page_is_refused_by_every_worker_at_once(client, personas, two_workers, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    token, raw = _fresh_token(personas.agent)
    # Both workers have seen the token: any lookup a worker kept would be warm now.
    assert [_get(port, "/api/v1/cases/", raw) for port in two_workers] == [200, 200]
    client.force_login(personas.agent)
    assert client.post("/settings/tokens/", {"revoke": token.pk}).status_code == 302
    assert [_get(port, "/api/v1/cases/", raw) for port in two_workers] == [401, 401]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_token_rate_is_counted_once_across_workers_in_redis(personas, two_workers, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    first, second = two_workers
    _token, raw = _fresh_token(personas.viewer)
    _other, other_raw = _fresh_token(personas.viewer)
    # 3 a minute: with a count in each worker's memory, each would allow 3.
    assert [_get(first, "/api/v1/cases/", raw), _get(second, "/api/v1/cases/", raw)] == [200, 200]
    assert _get(first, "/api/v1/cases/", raw) == 200
    assert [_get(second, "/api/v1/cases/", raw), _get(first, "/api/v1/cases/", raw)] == [429, 429]
    assert _get(second, "/api/v1/cases/", other_raw) == 200, "another token has its own count"
