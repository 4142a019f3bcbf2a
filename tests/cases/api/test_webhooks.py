import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from cases import services
from cases.models import DeliveryStatus, WebhookDelivery
from cases.tasks import webhook_deliver, webhook_sweep
from evidence.services import Actor
from tests.conftest import error_of
from tests.factories import attach, sight

pytestmark = pytest.mark.django_db


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver side, exactly as docs/api.md tells integrators to do it."""
    fields = dict(part.split("=", 1) for part in headers["Casemanager-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


@pytest.fixture
def endpoint(api, receiver, settings):
    settings.ALLOW_PRIVATE_URLS = True
    response = api.manager.post(
        "/api/v1/webhooks/",
        {
            "url": receiver.url,
            "events": [
                "case.created",
                "case.status_changed",
                "sighting.new_seller",
                "evidence.added",
                "storefront.attached",
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_registering_needs_a_manager_and_a_public_https_address(api, settings):
    settings.ALLOW_PRIVATE_URLS = False
    body = {"url": "https://hooks.example.com/x", "events": ["case.created"]}
    assert api.agent.post("/api/v1/webhooks/", body, format="json").status_code == 403
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/x",
        "https://[::ffff:192.168.0.1]/x",
        "https://localhost/x",
        "https://user:pw@hooks.example.com/x",
    ]:
        response = api.manager.post("/api/v1/webhooks/", {**body, "url": url}, format="json")
        assert response.status_code == 400, url
        assert error_of(response)["fields"]["url"][0]["code"] == "unsafe_url", url
    unknown = api.manager.post(
        "/api/v1/webhooks/", {**body, "url": "https://x", "events": ["case.exploded"]}, format="json"
    )
    assert list(error_of(unknown)["fields"]) == ["events.0"]


def test_events_are_signed_and_sent_after_commit(
    api, endpoint, receiver, brand, personas, django_capture_on_commit_callbacks
):
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in api.manager.get(f"/api/v1/webhooks/{endpoint['id']}/").json()
    with django_capture_on_commit_callbacks(execute=True):
        created = api.agent.post(
            "/api/v1/cases/", {"brand": brand.pk, "asin": "B0HOOK0001", "marketplace": "US"}, format="json"
        )
    assert created.status_code == 201
    assert len(receiver.requests) == 1
    delivered = receiver.requests[0]
    assert verify(endpoint["secret"], delivered["headers"], delivered["body"])
    assert not verify("whsec_wrong", delivered["headers"], delivered["body"])
    payload = delivered["json"]
    assert payload["type"] == "case.created"
    assert payload["object"] == created.json() | {"open_days": payload["object"]["open_days"]}
    assert delivered["headers"]["Casemanager-Event"] == "case.created"
    log = api.manager.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    assert log[0]["status"] == "succeeded"
    assert log[0]["response_status"] == 200
    assert log[0]["duration_ms"] is not None


def test_new_seller_and_status_events(api, endpoint, receiver, case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sight(case, attach(case, 1, name="<script>alert(1)</script>"))
        api.agent.post(f"/api/v1/cases/{case.pk}/transition/", {"status": "warned"}, format="json")
    types = [r["json"]["type"] for r in receiver.requests]
    assert types == ["storefront.attached", "case.status_changed"]
    assert receiver.requests[0]["json"]["object"]["storefront"]["name"] == "<script>alert(1)</script>"
    with django_capture_on_commit_callbacks(execute=True):
        sight(case, case.case_storefronts.get().storefront)
    assert len(receiver.requests) == 2, "a known seller is no new seller"
    changed = receiver.requests[1]["json"]["changes"]
    assert changed == {"before": {"status": "new"}, "after": {"status": "warned"}}


def test_new_seller_event_when_a_sighting_brings_a_storefront(
    api, endpoint, receiver, case, personas, django_capture_on_commit_callbacks
):
    from cases.models import Storefront

    storefront = Storefront.objects.create(team=case.team, marketplace="US", seller_id="A1NEWSELLER0001")
    with django_capture_on_commit_callbacks(execute=True):
        services.sighting_record(case=case, storefront=storefront, actor=Actor.job("offer_watch"))
    assert [r["json"]["type"] for r in receiver.requests] == ["storefront.attached", "sighting.new_seller"]


def test_failures_are_retried_with_backoff_then_given_up_after_a_day(
    api, endpoint, receiver, brand, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        api.agent.post("/api/v1/cases/", {"brand": brand.pk, "asin": "B0HOOK0002", "marketplace": "US"}, format="json")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.response_status == 500
    assert len(delivery.response_excerpt) <= 500
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert dt.timedelta(seconds=30) <= first_wait <= dt.timedelta(seconds=37)
    assert webhook_sweep() == 0, "not due yet"
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (2, 503)
    assert delivery.next_attempt_at - delivery.last_attempt_at >= dt.timedelta(seconds=60)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now(), created_at=timezone.now() - dt.timedelta(days=1))
    receiver.statuses = [500]
    webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3


def test_redelivery_sends_the_same_event_again(api, endpoint, receiver, brand, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.agent.post("/api/v1/cases/", {"brand": brand.pk, "asin": "B0HOOK0003", "marketplace": "US"}, format="json")
    original = WebhookDelivery.objects.get()
    assert api.agent.post(f"/api/v1/webhook-deliveries/{original.pk}/redeliver/").status_code == 403
    assert api.outsider.post(f"/api/v1/webhook-deliveries/{original.pk}/redeliver/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api.manager.post(f"/api/v1/webhook-deliveries/{original.pk}/redeliver/")
    assert response.status_code == 202
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["json"]["id"] == receiver.requests[1]["json"]["id"]
    assert response.json()["redelivery_of"] == original.pk


def test_redirects_are_not_followed(api, endpoint, receiver, brand, django_capture_on_commit_callbacks):
    receiver.statuses = [302]
    with django_capture_on_commit_callbacks(execute=True):
        api.agent.post("/api/v1/cases/", {"brand": brand.pk, "asin": "B0HOOK0004", "marketplace": "US"}, format="json")
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status == 302
    assert delivery.status == DeliveryStatus.PENDING
    assert len(receiver.requests) == 1


def test_an_address_that_turned_private_is_refused_at_delivery(
    api, endpoint, brand, settings, django_capture_on_commit_callbacks
):
    settings.ALLOW_PRIVATE_URLS = False
    with django_capture_on_commit_callbacks(execute=True):
        api.agent.post("/api/v1/cases/", {"brand": brand.pk, "asin": "B0HOOK0005", "marketplace": "US"}, format="json")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "allowed" in delivery.error


def test_rolled_back_changes_send_nothing(api, endpoint, receiver, brand, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.agent.post(
            "/api/v1/cases/", {"brand": brand.pk, "asin": "bad", "marketplace": "US"}, format="json"
        )
    assert response.status_code == 400
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_endpoints_can_be_changed_and_removed(api, endpoint):
    url = f"/api/v1/webhooks/{endpoint['id']}/"
    changed = api.manager.patch(url, {"is_active": False, "events": ["case.created"]}, format="json")
    assert changed.json()["is_active"] is False
    assert api.outsider.delete(url).status_code == 404
    assert api.manager.delete(url).status_code == 204
    assert api.manager.get(url).status_code == 404


def test_payload_is_json_with_cjk_kept(api, endpoint, receiver, case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attach(case, 3, name="株式会社さくら商事")
    assert "株式会社さくら商事".encode() in receiver.requests[0]["body"]
    assert json.loads(receiver.requests[0]["body"])["team"] == case.team_id
