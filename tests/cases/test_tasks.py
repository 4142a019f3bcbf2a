"""Tasks on the real stack: a Celery worker process, Redis and PostgreSQL."""

import pytest

from cases.models import DeliveryStatus, WebhookDelivery
from cases.services.webhooks import webhook_endpoint_create
from evidence.services import Actor
from tests.cases.api.test_webhooks import verify
from tests.conftest import Receiver, eventually
from tests.factories import BrandFactory, CaseFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_urls(settings):
    settings.ALLOW_PRIVATE_URLS = True


@pytest.mark.usefixtures("private_urls")
def test_a_worker_delivers_a_signed_webhook_after_commit(personas, receiver: Receiver, celery_worker):
    endpoint, secret = webhook_endpoint_create(
        team=personas.team, url=receiver.url, events=["case.created"], actor=Actor.of_user(personas.manager)
    )
    case = CaseFactory(brand=BrandFactory(team=personas.team), asin="B0WORKER01")
    assert receiver.arrived.wait(timeout=30), "the worker never called the receiver"
    delivered = receiver.requests[0]
    assert verify(secret, delivered["headers"], delivered["body"])
    assert delivered["json"]["object"]["reference"] == case.reference
    delivery = eventually(
        lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).first(),
        what="the delivery to be recorded as succeeded",
    )
    assert delivery.response_status == 200
    assert delivery.attempts == 1
