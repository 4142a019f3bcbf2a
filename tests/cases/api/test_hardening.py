"""Behaviour under failure and misuse: half-writes, crashed requests, oversized bodies."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.models import Case, DeliveryStatus, Evidence, IdempotencyKey, WebhookDelivery
from cases.tasks import idempotency_sweep
from evidence.services import Actor
from tests.conftest import client_for, error_of
from tests.factories import CaseFactory, add_evidence, attach, png_bytes

pytestmark = pytest.mark.django_db


def test_test_buy_patch_is_all_or_nothing(api, case, brand):
    storefront = attach(case, 1)
    test_buy = services.test_buy_record(
        case=case,
        storefront=storefront,
        order_id="112-1234567-1234567",
        order_date=timezone.localdate(),
        actor=Actor.job("t"),
    )
    other_case_photo = add_evidence(CaseFactory(brand=brand))
    response = api.agent.patch(
        f"/api/v1/test-buys/{test_buy.pk}/",
        {"comparison_notes": "changed", "photos": [other_case_photo.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "photos" in error_of(response)["fields"]
    test_buy.refresh_from_db()
    assert test_buy.comparison_notes == ""


def test_a_crashed_request_releases_its_idempotency_key(personas, brand, monkeypatch):
    client = client_for(personas.agent)
    client.raise_request_exception = False
    monkeypatch.setattr("cases.services.case_open", lambda **kwargs: 1 / 0)
    body = {"brand": brand.pk, "asin": "B0CRASH001", "marketplace": "US"}
    crashed = client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert crashed.status_code == 500
    assert crashed.json()["error"]["code"] == "server_error"
    assert not IdempotencyKey.objects.exists()
    monkeypatch.undo()
    retried = client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    assert retried.status_code == 201


def test_uploads_under_one_key_differ_by_content_not_name(api, case):
    url = f"/api/v1/cases/{case.pk}/evidence/"

    def post(data):
        return api.agent.post(
            url,
            {"file": SimpleUploadedFile("same.png", data), "kind": "screenshot"},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="up-1",
        )

    assert post(png_bytes(color="red")).status_code == 201
    assert post(png_bytes(color="blue")).status_code == 422
    assert Evidence.objects.count() == 1


def test_idempotency_keys_expire(api, brand):
    body = {"brand": brand.pk, "asin": "B0EXPIRE01", "marketplace": "US"}
    assert api.agent.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert idempotency_sweep() == 1
    services.case_transition(case=Case.objects.get(), status="closed", reason="dup", actor=Actor.job("t"))
    assert api.agent.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201


def test_oversized_json_and_unknown_paths_answer_in_json(api, case, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.agent.patch(f"/api/v1/cases/{case.pk}/", {"title": "x" * 5000}, format="json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    missing = APIClient().get("/api/v1/nothing-here/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_paused_endpoints_get_nothing(api, personas, receiver, settings, brand, django_capture_on_commit_callbacks):
    settings.ALLOW_PRIVATE_URLS = True
    endpoint, _ = services.webhooks.webhook_endpoint_create(
        team=personas.team, url=receiver.url, events=["case.created"], actor=Actor.of_user(personas.manager)
    )
    services.webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=False, actor=Actor.of_user(personas.manager))
    with django_capture_on_commit_callbacks(execute=True):
        CaseFactory(brand=brand)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.FAILED).exists()


def _database_error(psycopg_error):
    """What Django raises when psycopg does: its own OperationalError, caused by psycopg's."""
    from django.db import OperationalError

    try:
        raise psycopg_error
    except Exception as cause:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as error:
            return error


@pytest.mark.parametrize(
    ("error_name", "status"),
    [("OperationalError", 503), ("AdminShutdown", 503), ("DeadlockDetected", 500), ("QueryCanceled", 500)],
)
def test_a_lost_database_answers_503_and_a_database_bug_500(personas, monkeypatch, error_name, status):
    """A server that went away is the deployment's state; a deadlock or a timeout is a bug to see."""
    import psycopg
    from psycopg import errors

    error_class = getattr(psycopg, error_name, None) or getattr(errors, error_name)
    failure = _database_error(error_class("simulated"))

    def failing(*args, **kwargs):
        raise failure

    monkeypatch.setattr("cases.api.views.cases.CaseViewSet.list", failing)
    client = client_for(personas.agent)
    client.raise_request_exception = False
    response = client.get("/api/v1/cases/")
    assert response.status_code == status
    if status == 503:
        assert error_of(response)["code"] == "unavailable"
        assert int(response["Retry-After"]) > 0
