"""Every list endpoint answers in a fixed number of queries, however many rows it lists."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import WebhookDelivery
from cases.services.captures import capture_create
from cases.services.watch import watch_add
from evidence.services import Actor
from tests.factories import CaseFactory, add_evidence, attach, png_bytes, sight

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/cases/",
    "/api/v1/brands/",
    "/api/v1/brands/{brand}/ip-rights/",
    "/api/v1/storefronts/",
    "/api/v1/cases/{case}/storefronts/",
    "/api/v1/cases/{case}/sightings/",
    "/api/v1/cases/{case}/evidence/",
    "/api/v1/cases/{case}/test-buys/",
    "/api/v1/cases/{case}/warnings/",
    "/api/v1/cases/{case}/submissions/",
    "/api/v1/cases/{case}/activity/",
    "/api/v1/webhooks/",
    "/api/v1/webhooks/{webhook}/deliveries/",
    "/api/v1/brands/{brand}/watch/",
    "/api/v1/cases/{case}/captures/",
]


def grow(case, brand, endpoint, start, count, personas):
    """Add ``count`` rows of every listed kind."""
    actor = Actor.of_user(personas.manager)
    for n in range(start, start + count):
        CaseFactory(brand=brand, asin=f"B0QC{n:06d}")
        storefront = attach(case, n)
        sight(case, storefront)
        add_evidence(case, data=png_bytes(color=(n % 255, 0, 0)))
        services.test_buy_record(
            case=case,
            storefront=storefront,
            order_id=f"112-{n:07d}-1234567",
            order_date=timezone.localdate(),
            actor=actor,
        )
        services.warning_record(
            case=case,
            storefront=storefront,
            text="Please stop",
            channel="email",
            actor=actor,
            sent_at=timezone.now() - dt.timedelta(hours=n),
        )
        services.submission_record(
            case=case, channel="report_infringement", submitted_on=timezone.localdate(), actor=actor
        )
        services.ip_right_create(brand=brand, kind="trademark", registration_number=f"{n}", actor=actor)
        WebhookDelivery.objects.create(endpoint=endpoint, event_type="case.created", payload={})
        watch_add(brand=brand, asin=f"B0QW{n:06d}", marketplace="US", actor=actor)
        capture_create(
            case=case, url=f"https://www.amazon.com/s?me={storefront.seller_id}", kind="storefront", actor=actor
        )


@pytest.mark.parametrize("template", ENDPOINTS)
def test_list_queries_do_not_grow(template, api, brand, case, personas, settings):
    settings.ALLOW_PRIVATE_URLS = True
    endpoint, _ = services.webhooks.webhook_endpoint_create(
        team=personas.team,
        url="http://127.0.0.1:9/hook",
        events=["dossier.ready"],
        actor=Actor.of_user(personas.manager),
    )
    url = template.format(case=case.pk, brand=brand.pk, webhook=endpoint.pk)
    client = api.manager
    client.get(url)  # the token's first use of the minute records last_used_at

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"page_size": 100})
        assert response.status_code == 200, response.content
        return len(captured)

    grow(case, brand, endpoint, 1, 2, personas)
    few = queries()
    grow(case, brand, endpoint, 3, 6, personas)
    assert queries() == few
    assert few <= 6, f"{url} takes {few} queries"
