"""Polling the Product Pricing API for the watch list, within Amazon's rate limits."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import SpApiCredential, SpApiRegion, WatchItem
from cases.services.detection import WATCHER, authorized_sellers, offers_observe
from evidence.amazon import MARKETPLACES
from evidence.offers import OfferSnapshot
from evidence.ratelimit import RateLimited
from evidence.sealing import SealBroken, unseal
from evidence.spapi import BATCH_SIZE, AuthFailed, Credentials, ItemFailure, PricingClient, SpApiError

logger = logging.getLogger(__name__)
# Batches one poll takes on: at 0.1 requests/s this is about half a minute of quota.
BATCHES_PER_RUN = 3


def _client(credential: SpApiCredential) -> PricingClient:
    try:
        secret, token = unseal(credential.client_secret_sealed), unseal(credential.refresh_token_sealed)
    except SealBroken as error:
        raise AuthFailed(str(error)) from None
    key = f"{credential.selling_partner_id}:{credential.client_id}"
    return PricingClient(Credentials(key, credential.client_id, secret, token, credential.region))


def _note_credential_error(credential: SpApiCredential, message: str) -> None:
    SpApiCredential.objects.filter(pk=credential.pk).update(last_error=message[:2000])


def credentials_due() -> list[int]:
    """Credentials whose brands have watch items due for a check in their SP-API region."""
    in_region = Q()
    for region in SpApiRegion.values:
        codes = [m.code for m in MARKETPLACES.values() if m.region == region]
        in_region |= Q(brand__sp_api__region=region, marketplace__in=codes)
    due = WatchItem.objects.filter(in_region, next_check_at__lte=timezone.now())
    return list(due.order_by().values_list("brand__sp_api", flat=True).distinct())


def _region_codes(credential: SpApiCredential) -> list[str]:
    # Each SP-API region serves its own marketplaces; others are left to notifications.
    return [m.code for m in MARKETPLACES.values() if m.region == credential.region]


def _claim_due(credential: SpApiCredential) -> list[WatchItem]:
    """Take the due items of the brand, and move their next check on, so no other poll takes them."""
    now = timezone.now()
    with transaction.atomic():
        items = list(
            WatchItem.objects.select_for_update(skip_locked=True)
            .filter(brand_id=credential.brand_id, next_check_at__lte=now, marketplace__in=_region_codes(credential))
            .order_by("next_check_at")[: BATCH_SIZE * BATCHES_PER_RUN]
        )
        for item in items:
            item.next_check_at = now + dt.timedelta(minutes=item.interval_minutes)
        WatchItem.objects.bulk_update(items, ["next_check_at"])
    return items


def watch_poll(*, credential_id: int) -> int:
    """Check the brand's due watch items with getItemOffersBatch; returns how many were checked.

    A throttled or failed batch puts its items back to be due at once and raises the
    error for the task to retry with backoff.
    """
    credential = SpApiCredential.objects.select_related("brand").filter(pk=credential_id).first()
    if credential is None:
        return 0
    items = _claim_due(credential)
    if not items:
        return 0
    try:
        client = _client(credential)
    except AuthFailed as error:
        _note_credential_error(credential, str(error))
        return 0
    authorized: dict[str, frozenset[str]] = {}
    checked = 0
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        try:
            answers = client.item_offers_batch(items=[(item.asin, item.marketplace) for item in batch])
        except AuthFailed as error:
            # Someone must enter the credentials again; the items wait for their next check.
            _note_credential_error(credential, str(error))
            return checked
        except (SpApiError, RateLimited) as error:
            remaining = [item.pk for item in items[start:]]
            WatchItem.objects.filter(pk__in=remaining).update(next_check_at=timezone.now(), last_error=str(error))
            raise
        SpApiCredential.objects.filter(pk=credential.pk).exclude(last_error="").update(last_error="")
        for item, answer in zip(batch, answers, strict=True):
            checked += 1
            if isinstance(answer, ItemFailure):
                retry_at = timezone.now() if answer.transient else item.next_check_at
                WatchItem.objects.filter(pk=item.pk).update(
                    last_error=f"{answer.status}: {answer.message}"[:2000], next_check_at=retry_at
                )
                continue
            if answer.marketplace not in authorized:
                authorized[answer.marketplace] = authorized_sellers(credential.brand, answer.marketplace)
            offers_observe(
                brand=credential.brand, snapshot=answer, actor=WATCHER, authorized=authorized[answer.marketplace]
            )
            WatchItem.objects.filter(pk=item.pk).update(
                last_checked_at=answer.observed_at, last_offer_count=answer.raw_offer_count, last_error=""
            )
    return checked


def poll_listing(*, credential: SpApiCredential, asin: str, marketplace: str) -> OfferSnapshot | None:
    """One listing's offers now (getItemOffers), or None when Amazon could not say."""
    try:
        return _client(credential).item_offers(asin=asin, marketplace=marketplace)
    except AuthFailed as error:
        _note_credential_error(credential, str(error))
        return None
    except SpApiError as error:
        if error.transient:
            raise
        logger.warning("getItemOffers %s %s failed: %s", asin, marketplace, error)
        return None
