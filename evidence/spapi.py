"""The Selling Partner API's Product Pricing operations, as an offer source.

Login with Amazon exchanges the brand's refresh token for an access token (cached until
shortly before it expires); requests carry it in ``x-amz-access-token``. Every call
first takes a token from the shared bucket of its operation; a 429 empties the bucket
for everyone. ``SPAPI_ENDPOINT`` and ``SPAPI_LWA_URL`` point tests at a local stand-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from evidence.amazon import MARKETPLACES
from evidence.offers import OfferSnapshot, SnapshotError, snapshot_from_offers_result
from evidence.ratelimit import TokenBucket

REGION_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_URL = "https://api.amazon.com/auth/o2/token"
BATCH_SIZE = 20
# Amazon's default usage plans (requests per second, burst).
ITEM_OFFERS_RATE = (0.5, 1)
BATCH_RATE = (0.1, 1)

_http = urllib3.PoolManager(
    timeout=urllib3.Timeout(connect=10, read=30), retries=False, maxsize=4, headers={"User-Agent": "casemanager/1"}
)


class SpApiError(Exception):
    """A call failed; ``transient`` says whether trying again later can help."""

    transient = False


class AuthFailed(SpApiError):
    """The credentials were refused: someone must enter them again."""


class Throttled(SpApiError):
    transient = True

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(SpApiError):
    transient = True


@dataclass(frozen=True)
class Credentials:
    key: str  # identifies the selling partner and application, for caches and buckets
    client_id: str
    client_secret: str
    refresh_token: str
    region: str


@dataclass(frozen=True)
class ItemFailure:
    asin: str
    marketplace: str
    status: int
    message: str

    @property
    def transient(self) -> bool:
        return self.status == 429 or self.status >= 500


def _endpoint(region: str) -> str:
    return str(settings.SPAPI_ENDPOINT or REGION_ENDPOINTS[region]).rstrip("/")


def _request(method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    try:
        return _http.request(method, url, **kwargs)
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise Unavailable(f"{type(error).__name__}: {error}") from None


def _json(response: urllib3.BaseHTTPResponse) -> Any:
    try:
        return json.loads(response.data or b"{}")
    except ValueError:
        raise Unavailable(f"HTTP {response.status} with a body that is not JSON") from None


def _errors(document: Any) -> str:
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors[:3] if isinstance(e, dict))
    return ""


class PricingClient:
    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def _token_key(self) -> str:
        secret = f"{self.credentials.client_id}:{self.credentials.refresh_token}".encode()
        return f"spapi:lwa:{hashlib.sha256(secret).hexdigest()}"

    def access_token(self) -> str:
        cached = cache.get(self._token_key())
        if isinstance(cached, str):
            return cached
        response = _request(
            "POST",
            settings.SPAPI_LWA_URL or LWA_URL,
            body=urlencode(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials.refresh_token,
                    "client_id": self.credentials.client_id,
                    "client_secret": self.credentials.client_secret,
                }
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        )
        document = _json(response)
        if response.status in (400, 401, 403):
            detail = document.get("error_description") or document.get("error") if isinstance(document, dict) else ""
            raise AuthFailed(f"Login with Amazon refused the credentials: {detail or response.status}")
        if response.status != 200 or not isinstance(document.get("access_token"), str):
            raise Unavailable(f"Login with Amazon answered HTTP {response.status}")
        token: str = document["access_token"]
        lifetime = document.get("expires_in") if isinstance(document.get("expires_in"), int) else 3600
        cache.set(self._token_key(), token, timeout=max(lifetime - 120, 30))
        return token

    def _call(self, method: str, path: str, bucket: TokenBucket, *, max_wait: float, **kwargs: Any) -> Any:
        bucket.acquire(max_wait=max_wait)
        headers = {"x-amz-access-token": self.access_token(), "Accept": "application/json"}
        if "body" in kwargs:
            headers["Content-Type"] = "application/json"
        response = _request(method, f"{_endpoint(self.credentials.region)}{path}", headers=headers, **kwargs)
        document = _json(response)
        if response.status == 429:
            retry_after = 1.0 / bucket.rate
            bucket.penalize(retry_after)
            raise Throttled("Amazon answered 429 (quota exceeded)", retry_after)
        if response.status in (401, 403):
            cache.delete(self._token_key())
            raise AuthFailed(f"Amazon refused the call: {_errors(document) or response.status}")
        if response.status >= 500:
            raise Unavailable(f"Amazon answered HTTP {response.status}")
        if response.status >= 400:
            raise SpApiError(f"Amazon refused the request: {_errors(document) or response.status}")
        return document

    def item_offers(self, *, asin: str, marketplace: str, max_wait: float = 10.0) -> OfferSnapshot:
        """getItemOffers for one ASIN (New condition)."""
        bucket = TokenBucket(f"spapi:{self.credentials.key}:getItemOffers", rate=ITEM_OFFERS_RATE[0], burst=1)
        query = urlencode({"MarketplaceId": MARKETPLACES[marketplace].marketplace_id, "ItemCondition": "New"})
        path = f"/products/pricing/v0/items/{quote(asin, safe='')}/offers?{query}"
        document = self._call("GET", path, bucket, max_wait=max_wait)
        try:
            return snapshot_from_offers_result(document.get("payload"), observed_at=timezone.now())
        except SnapshotError as error:
            raise Unavailable(f"Amazon's answer could not be read: {error}") from None

    def item_offers_batch(
        self, *, items: list[tuple[str, str]], max_wait: float = 20.0
    ) -> list[OfferSnapshot | ItemFailure]:
        """getItemOffersBatch for up to 20 (ASIN, marketplace code) pairs, answers in order."""
        if not 1 <= len(items) <= BATCH_SIZE:
            raise ValueError(f"a batch holds 1 to {BATCH_SIZE} items")
        bucket = TokenBucket(f"spapi:{self.credentials.key}:getItemOffersBatch", rate=BATCH_RATE[0], burst=1)
        body = {
            "requests": [
                {
                    "uri": f"/products/pricing/v0/items/{quote(asin, safe='')}/offers",
                    "method": "GET",
                    "MarketplaceId": MARKETPLACES[marketplace].marketplace_id,
                    "ItemCondition": "New",
                    "CustomerType": "Consumer",
                }
                for asin, marketplace in items
            ]
        }
        document = self._call(
            "POST", "/batches/products/pricing/v0/itemOffers", bucket, max_wait=max_wait, body=json.dumps(body)
        )
        responses = document.get("responses") if isinstance(document, dict) else None
        if not isinstance(responses, list):
            raise Unavailable("Amazon's batch answer has no responses")
        observed = timezone.now()
        results: list[OfferSnapshot | ItemFailure] = []
        for (asin, marketplace), answer in zip(items, responses, strict=False):
            results.append(_batch_item(asin, marketplace, answer, observed))
        for asin, marketplace in items[len(responses) :]:
            results.append(ItemFailure(asin, marketplace, 502, "missing from Amazon's batch answer"))
        return results


def _batch_item(asin: str, marketplace: str, answer: Any, observed: dt.datetime) -> OfferSnapshot | ItemFailure:
    if not isinstance(answer, dict):
        return ItemFailure(asin, marketplace, 502, "unreadable batch entry")
    status_line = answer.get("status")
    code = status_line.get("statusCode") if isinstance(status_line, dict) else None
    status = code if isinstance(code, int) else 200
    body = answer.get("body")
    body = body if isinstance(body, dict) else {}
    if status != 200:
        return ItemFailure(asin, marketplace, status, _errors(body) or f"HTTP {status}")
    try:
        return snapshot_from_offers_result(body.get("payload"), observed_at=observed)
    except SnapshotError as error:
        return ItemFailure(asin, marketplace, 502, str(error))
