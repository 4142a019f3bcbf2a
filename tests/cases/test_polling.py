"""Polling the Product Pricing API, against a local stand-in speaking its JSON."""

import uuid

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStorefront, Sighting, SpApiCredential, WatchItem
from cases.services.polling import credentials_due, watch_poll
from cases.services.watch import sp_api_credentials_set, watch_add
from evidence.ratelimit import RateLimited, TokenBucket
from evidence.spapi import Throttled
from tests.factories import BrandFactory, manager_of, seller_id
from tests.support.fake_spapi import fake_spapi, offer

pytestmark = pytest.mark.django_db
OWN = "A3TH9S8BH6GOGM"


@pytest.fixture
def amazon(settings, monkeypatch):
    # Amazon's real quotas would make consecutive polls wait; tests that need them set them.
    monkeypatch.setattr("evidence.spapi.BATCH_RATE", (1000.0, 1))
    monkeypatch.setattr("evidence.spapi.ITEM_OFFERS_RATE", (1000.0, 1))
    with fake_spapi() as fake:
        settings.SPAPI_ENDPOINT = fake.url
        settings.SPAPI_LWA_URL = f"{fake.url}/auth/o2/token"
        yield fake


@pytest.fixture
def brand(personas):
    brand = BrandFactory(team=personas.team)
    brand = services.brand_update(brand=brand, actor=manager_of(personas.team), capture_new_hijackers=False)
    sp_api_credentials_set(
        brand=brand,
        selling_partner_id=OWN,
        region="na",
        # A client ID of its own per test: rate-limit buckets are per selling partner and app.
        client_id=f"amzn1.application-oa2-client.{uuid.uuid4().hex}",
        client_secret="cs",
        refresh_token="Atzr|refresh",
        actor=manager_of(personas.team),
    )
    return brand


def test_due_items_are_polled_in_one_batch_and_hijackers_detected(amazon, brand, personas):
    manager = manager_of(personas.team)
    for asin in ("B000000001", "B000000002", "B000000003"):
        watch_add(brand=brand, asin=asin, marketplace="US", actor=manager)
    watch_add(brand=brand, asin="B000000009", marketplace="DE", actor=manager)  # another region: not polled here
    amazon.offers = {
        "B000000001": [offer(OWN, buy_box=True), offer(seller_id(1), 15.0)],
        "B000000002": [offer(OWN, buy_box=True)],
        "B000000003": [offer("ATVPDKIKX0DER", fba=True), offer(seller_id(2), 9.5, fba=True, buy_box=True)],
    }
    assert credentials_due() == [brand.sp_api.pk]
    assert watch_poll(credential_id=brand.sp_api.pk) == 3
    batches = [r for r in amazon.requests if r[1] == "/batches/products/pricing/v0/itemOffers"]
    assert len(batches) == 1
    assert len(batches[0][2]["requests"]) == 3
    hijacked = dict(Case.objects.values_list("asin", "case_storefronts__storefront__seller_id"))
    assert hijacked == {"B000000001": seller_id(1), "B000000003": seller_id(2)}
    sighting = Sighting.objects.get(storefront__seller_id=seller_id(2))
    assert (sighting.fulfillment, sighting.buy_box, sighting.ships_from) == ("FBA", True, "CN")
    assert (sighting.feedback_count, str(sighting.feedback_positive_percent)) == (3, "67.00")
    checked = WatchItem.objects.get(asin="B000000002")
    assert checked.last_checked_at is not None
    assert checked.next_check_at > timezone.now()
    assert WatchItem.objects.get(asin="B000000009").last_checked_at is None
    # Nothing is due any more: a second poll asks Amazon nothing.
    assert watch_poll(credential_id=brand.sp_api.pk) == 0
    assert credentials_due() == []


def test_the_access_token_is_reused_until_it_expires(amazon, brand, personas):
    for n in range(2):
        item = watch_add(brand=brand, asin=f"B00000000{n}", marketplace="US", actor=manager_of(personas.team))
        amazon.offers[item.asin] = [offer(OWN)]
        watch_poll(credential_id=brand.sp_api.pk)
    assert amazon.tokens_issued == 1


def test_a_429_puts_the_items_back_and_empties_the_bucket(amazon, brand, personas, monkeypatch):
    monkeypatch.setattr("evidence.spapi.BATCH_RATE", (0.1, 1))
    item = watch_add(brand=brand, asin="B000000001", marketplace="US", actor=manager_of(personas.team))
    amazon.offers = {"B000000001": [offer(seller_id(1))]}
    amazon.throttle_next = 1
    with pytest.raises(Throttled):
        watch_poll(credential_id=brand.sp_api.pk)
    item.refresh_from_db()
    assert item.next_check_at <= timezone.now()
    assert "429" in item.last_error
    assert not Case.objects.exists()
    bucket = TokenBucket(f"spapi:{OWN}:{brand.sp_api.client_id}:getItemOffersBatch", rate=0.1, burst=1)
    with pytest.raises(RateLimited):
        bucket.acquire(max_wait=0)


def test_refused_credentials_are_reported_on_the_brand_and_not_retried(amazon, brand, personas):
    watch_add(brand=brand, asin="B000000001", marketplace="US", actor=manager_of(personas.team))
    amazon.refuse_login = True
    watch_poll(credential_id=brand.sp_api.pk)
    assert "refused" in SpApiCredential.objects.get().last_error


def test_an_item_amazon_does_not_know_keeps_its_error(amazon, brand, personas):
    watch_add(brand=brand, asin="B0NOTREAL1", marketplace="US", actor=manager_of(personas.team))
    watch_poll(credential_id=brand.sp_api.pk)
    assert "Invalid ASIN" in WatchItem.objects.get().last_error


@pytest.mark.redis
def test_the_bucket_is_shared_by_every_worker(settings):
    key = f"test:{uuid.uuid4().hex}"
    first, second = TokenBucket(key, rate=0.5, burst=1), TokenBucket(key, rate=0.5, burst=1)
    first.acquire(max_wait=0)
    with pytest.raises(RateLimited) as refused:
        second.acquire(max_wait=0)
    assert 1.0 < refused.value.retry_after <= 2.0


def test_a_seller_gone_from_the_complete_list_is_recorded(amazon, brand, personas):
    watch_add(brand=brand, asin="B000000001", marketplace="US", actor=manager_of(personas.team))
    amazon.offers = {"B000000001": [offer(seller_id(1)), offer(seller_id(2))]}
    watch_poll(credential_id=brand.sp_api.pk)
    WatchItem.objects.update(next_check_at=timezone.now())
    amazon.offers = {"B000000001": [offer(seller_id(1))]}
    watch_poll(credential_id=brand.sp_api.pk)
    states = dict(CaseStorefront.objects.values_list("storefront__seller_id", "state"))
    assert states == {seller_id(1): "active", seller_id(2): "gone"}
