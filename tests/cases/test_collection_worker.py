"""Evidence collection on the real stack: Redis, PostgreSQL, Celery workers, an SQS server
speaking Amazon's protocol (moto), a stand-in for the SP-API, and Chromium."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import boto3
import pytest
from django.core.management import call_command
from django.utils import timezone

from cases import services
from cases.models import Capture, Case, Evidence, OfferNotification, Sighting
from cases.services.captures import capture_request
from cases.services.watch import sp_api_credentials_set, watch_add
from cases.tasks import capture_sweep, sqs_consume, watch_due
from tests.cases.api.test_collection import notification
from tests.conftest import eventually
from tests.factories import BrandFactory, CaseFactory, manager_of, seller_id
from tests.support.fake_spapi import fake_spapi, offer
from tests.support.site import local_site

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ASIN = "B0C1HJ4K2L"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def sqs_queue(monkeypatch, settings):
    """A local SQS server (moto) with one queue; workers started after this read from it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)

    def ready():
        try:
            return client.create_queue(QueueName="any-offer-changed")["QueueUrl"]
        except Exception:
            return None

    try:
        url = eventually(ready, what="the SQS server to start")
        monkeypatch.setenv("SPAPI_SQS_QUEUE_URL", url)
        monkeypatch.setenv("SPAPI_SQS_ENDPOINT_URL", endpoint)
        settings.SPAPI_SQS_QUEUE_URL = url
        yield client, url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def brand(personas):
    brand = BrandFactory(team=personas.team, name="Lumora")
    return services.brand_update(brand=brand, actor=manager_of(personas.team), capture_new_hijackers=False)


def test_notifications_from_sqs_are_processed_once_and_deleted(personas, brand, sqs_queue, celery_worker):
    client, url = sqs_queue
    watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
    from cases.models import SpApiCredential

    sp_api_credentials_set(
        brand=brand,
        selling_partner_id="A3TH9S8BH6GOGM",
        region="na",
        client_id="amzn1.application-oa2-client.x",
        client_secret="cs",
        refresh_token="Atzr|x",
        actor=manager_of(personas.team),
    )
    assert SpApiCredential.objects.exists()
    first = notification(seller_id(1), seller_id(2))
    for body in (first, first, notification(seller_id(1), seller_id(3)), {"not": "a notification"}):
        client.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    sqs_consume.delay()
    eventually(lambda: OfferNotification.objects.filter(status="done").count() == 2, what="both notifications")
    case = Case.objects.get(asin=ASIN)
    sellers = set(Sighting.objects.filter(case=case).values_list("storefront__seller_id", flat=True))
    assert sellers == {seller_id(1), seller_id(2), seller_id(3)}
    assert Sighting.objects.filter(case=case, storefront__seller_id=seller_id(1)).count() == 1

    def drained():
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return (
            attributes["ApproximateNumberOfMessages"] == "0"
            and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
        )

    eventually(drained, what="the messages to be deleted")


def test_a_worker_polls_the_watch_list_through_the_sp_api(personas, brand, monkeypatch, settings, workers):
    with fake_spapi() as amazon:
        monkeypatch.setenv("SPAPI_ENDPOINT", amazon.url)
        monkeypatch.setenv("SPAPI_LWA_URL", f"{amazon.url}/auth/o2/token")
        sp_api_credentials_set(
            brand=brand,
            selling_partner_id="A3TH9S8BH6GOGM",
            region="na",
            client_id=f"amzn1.application-oa2-client.{uuid.uuid4().hex}",
            client_secret="cs",
            refresh_token="Atzr|x",
            actor=manager_of(personas.team),
        )
        watch_add(brand=brand, asin=ASIN, marketplace="US", actor=manager_of(personas.team))
        amazon.offers = {ASIN: [offer("A3TH9S8BH6GOGM", buy_box=True), offer(seller_id(5), 11.0, fba=True)]}
        workers.start()
        watch_due.delay()
        sighting = eventually(
            lambda: Sighting.objects.filter(case__asin=ASIN).first(), what="the poll to find the hijacker"
        )
    assert (sighting.storefront.seller_id, sighting.fulfillment, sighting.source) == (seller_id(5), "FBA", "api_poll")


def test_a_capture_killed_mid_job_runs_again_and_stores_its_evidence_once(personas, settings, workers):
    settings.ALLOW_PRIVATE_URLS = True
    case = CaseFactory(brand=BrandFactory(team=personas.team), asin=ASIN)
    with local_site() as site:
        site.hold = threading.Event()
        site.html("/slow", "<title>Offers</title><h1>卖家 Seller</h1>")
        first = workers.start()
        capture = capture_request(case=case, url=site.url("/slow"), actor=manager_of(case.team))
        eventually(lambda: ("127.0.0.1", "/slow") in site.hits, what="the browser to ask for the page")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert Capture.objects.get(pk=capture.pk).status == "running"
        assert not Evidence.objects.exists()
        site.hold.set()
        # The worker's time limit has passed: the sweeper finds the job and queues it again.
        Capture.objects.filter(pk=capture.pk).update(started_at=timezone.now() - timedelta(hours=1))
        assert capture_sweep() == 1
        workers.start()
        done = eventually(
            lambda: Capture.objects.filter(pk=capture.pk, status="done").first(), timeout=60, what="the capture"
        )
    assert done.attempts == 2
    assert sorted(Evidence.objects.values_list("kind", flat=True)) == ["page_capture", "screenshot"]
    call_command("verify_evidence")
