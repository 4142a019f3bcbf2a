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


def test_a_worker_builds_a_requested_dossier(personas, celery_worker):
    from cases.models import Dossier, DossierStatus
    from evidence.models import Rendition
    from tests.cases.test_dossiers import tall_screenshot
    from tests.conftest import client_for
    from tests.factories import add_evidence, attach

    case = CaseFactory(brand=BrandFactory(team=personas.team), asin="B0WORKER02")
    attach(case, 1, name="深圳市好运来贸易有限公司")
    item = add_evidence(case, data=tall_screenshot(1200, 3000))
    eventually(lambda: Rendition.objects.filter(source=item.blob).exists(), what="the worker to make print tiles")
    queued = client_for(personas.agent).post(f"/api/v1/cases/{case.pk}/dossiers/")
    assert queued.status_code == 202
    dossier = eventually(
        lambda: Dossier.objects.filter(pk=queued.json()["id"], status=DossierStatus.DONE).first(),
        timeout=120,
        what="the worker to build the dossier",
    )
    assert dossier.progress == 100
    assert dossier.pages > 3
    assert list(dossier.exhibits.values_list("blob_id", flat=True)) == [item.blob_id]
