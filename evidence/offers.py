"""Offer snapshots: what Amazon says is on sale on a listing, whatever told us.

Every source (a Product Pricing poll, an ANY_OFFER_CHANGED notification from SQS or
from the HTTPS endpoint) is turned into the same ``OfferSnapshot``; detection reads only
that. Parsers follow Amazon's published schemas (``docs/amazon.md``) and tolerate the
fields real deliveries leave out, such as ``IsBuyBoxWinner``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from evidence.amazon import MARKETPLACES_BY_ID, SELLER_ID_RE

# Amazon's own retail offers, by marketplace, as sellers commonly report them. A brand
# that sells to Amazon counts these as authorized (Brand.amazon_is_authorized).
AMAZON_RETAIL_SELLER_IDS: dict[str, str] = {
    "US": "ATVPDKIKX0DER",
    "CA": "A3DWYIK6Y9EEQB",
    "UK": "A3P5ROKL5A1OLE",
    "DE": "A3JWKAKR8XB7XF",
    "FR": "A1X6FK5RDHNB96",
    "IT": "A11IL2PNWYJU7H",
    "ES": "A1AT7YVPFBWXBL",
    "JP": "AN1VRQENFRJN5",
}

# getItemOffers and ANY_OFFER_CHANGED list at most this many offers per condition.
OFFER_LIST_CAP = 20
MAX_PRICE = Decimal("1e10")


class SnapshotError(ValueError):
    """The document is not an offer list we can read; the message says what is wrong."""


@dataclass(frozen=True)
class Offer:
    seller_id: str
    price: Decimal | None
    currency: str
    fulfillment: str  # "FBA" or "FBM"
    buy_box: bool | None  # None when the source did not say
    ships_from: str = ""
    feedback_count: int | None = None
    feedback_rating: Decimal | None = None
    prime: bool | None = None


@dataclass(frozen=True)
class OfferSnapshot:
    asin: str
    marketplace: str  # our code: US, DE, JP
    condition: str  # new, used, collectible, refurbished
    observed_at: dt.datetime
    offers: tuple[Offer, ...]
    # True when the list holds every offer of the condition, so a seller missing from it
    # has left the listing rather than dropped below the first twenty.
    complete: bool
    source: str  # a SightingSource value
    subscriber: str = ""  # the selling partner the notification was sent to
    notification_id: str = ""
    raw_offer_count: int | None = field(default=None, compare=False)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(f"{where} must be an object.")
    return value


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _money(value: Any) -> tuple[Decimal | None, str]:
    if not isinstance(value, dict):
        return None, ""
    amount = value.get("Amount")
    currency = value.get("CurrencyCode")
    try:
        price = Decimal(str(amount)) if isinstance(amount, int | float | str) and amount != "" else None
    except InvalidOperation:
        price = None
    # Sighting prices are numeric(12, 2): anything outside is not a price anyone pays.
    if price is not None and (not price.is_finite() or price < 0 or price >= MAX_PRICE):
        price = None
    return price, currency.strip().upper()[:3] if isinstance(currency, str) else ""


def _time(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise SnapshotError(f"{where} must be a time.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SnapshotError(f"{where} is not an ISO 8601 time: {value[:40]!r}.") from None
    if parsed.tzinfo is None:
        raise SnapshotError(f"{where} has no time zone.")
    return parsed


def _marketplace(marketplace_id: Any) -> str:
    found = MARKETPLACES_BY_ID.get(marketplace_id) if isinstance(marketplace_id, str) else None
    if found is None:
        raise SnapshotError(f"Unknown marketplace ID {str(marketplace_id)[:40]!r}.")
    return found.code


def _condition(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if text in {"new", "used", "collectible", "refurbished"} else "new"


def _offer(raw: Any) -> Offer | None:
    if not isinstance(raw, dict):
        return None
    seller_id = raw.get("SellerId")
    if not isinstance(seller_id, str) or not SELLER_ID_RE.match(seller_id.strip().upper()):
        return None
    listing, currency = _money(raw.get("ListingPrice"))
    shipping, _ = _money(raw.get("Shipping"))
    price = listing + shipping if listing is not None and shipping is not None else listing
    ships_from = raw.get("ShipsFrom")
    where = ""
    if isinstance(ships_from, dict):
        where = ", ".join(str(ships_from[k]) for k in ("State", "Country") if isinstance(ships_from.get(k), str))
    feedback = raw.get("SellerFeedbackRating")
    feedback = feedback if isinstance(feedback, dict) else {}
    count = feedback.get("FeedbackCount")
    rating = feedback.get("SellerPositiveFeedbackRating")
    prime = raw.get("PrimeInformation")
    prime_flag = None
    if isinstance(prime, dict):
        # Notifications say IsOfferPrime; Product Pricing says IsPrime.
        flag = prime.get("IsOfferPrime", prime.get("IsPrime"))
        prime_flag = flag if isinstance(flag, bool) else None
    buy_box = raw.get("IsBuyBoxWinner")
    return Offer(
        seller_id=seller_id.strip().upper(),
        price=price,
        currency=currency,
        fulfillment="FBA" if raw.get("IsFulfilledByAmazon") is True else "FBM",
        buy_box=buy_box if isinstance(buy_box, bool) else None,
        ships_from=where[:100],
        feedback_count=count if isinstance(count, int) and not isinstance(count, bool) and 0 <= count < 2**31 else None,
        feedback_rating=Decimal(str(rating)).quantize(Decimal("0.01"))
        if isinstance(rating, int | float) and not isinstance(rating, bool) and 0 <= rating <= 100
        else None,
        prime=prime_flag,
    )


def _offers(raw: Any) -> tuple[tuple[Offer, ...], int]:
    """The offers, one per seller, and how many entries the list had (-1: some were unreadable)."""
    if not isinstance(raw, list):
        raise SnapshotError("Offers must be a list.")
    limit = OFFER_LIST_CAP * 5
    parsed = [offer for item in raw[:limit] if (offer := _offer(item)) is not None]
    # One seller may list several offers of a condition; the first (the cheapest) speaks for it.
    unique: dict[str, Offer] = {}
    for offer in parsed:
        unique.setdefault(offer.seller_id, offer)
    # Entries that could not be read (or were not read) may be sellers: the list is then
    # not known to be complete.
    listed = len(parsed) if len(parsed) == len(raw) else -1
    return tuple(unique.values()), listed


def _offer_count(summary: dict[str, Any], condition: str) -> int | None:
    counts = summary.get("NumberOfOffers")
    if not isinstance(counts, list):
        total = summary.get("TotalOfferCount")
        return total if isinstance(total, int) else None
    matching = [
        c.get("OfferCount")
        for c in counts
        if isinstance(c, dict) and str(c.get("Condition", c.get("condition", ""))).lower() == condition
    ]
    return sum(n for n in matching if isinstance(n, int))


def snapshot_from_notification(document: Any, *, source: str = "notification") -> OfferSnapshot:
    """An ANY_OFFER_CHANGED notification (``AnyOfferChangedNotification.json``)."""
    root = _dict(document, "The notification")
    if root.get("NotificationType") != "ANY_OFFER_CHANGED":
        raise SnapshotError("Only ANY_OFFER_CHANGED notifications are accepted.")
    metadata = _dict(root.get("NotificationMetadata"), "NotificationMetadata")
    notification_id = metadata.get("NotificationId")
    if not isinstance(notification_id, str) or not notification_id.strip() or len(notification_id) > 100:
        raise SnapshotError("NotificationMetadata.NotificationId is missing.")
    payload = _dict(_dict(root.get("Payload"), "Payload").get("AnyOfferChangedNotification"), "Payload body")
    trigger = _dict(payload.get("OfferChangeTrigger"), "OfferChangeTrigger")
    asin = trigger.get("ASIN")
    if not isinstance(asin, str) or not asin.strip():
        raise SnapshotError("OfferChangeTrigger.ASIN is missing.")
    condition = _condition(trigger.get("ItemCondition"))
    offers, listed = _offers(payload.get("Offers"))
    summary = _as_dict(payload.get("Summary"))
    count = _offer_count(summary, condition)
    observed = trigger.get("TimeOfOfferChange") or root.get("EventTime")
    subscriber = payload.get("SellerId")
    return OfferSnapshot(
        asin=asin.strip().upper()[:10],
        marketplace=_marketplace(trigger.get("MarketplaceId")),
        condition=condition,
        observed_at=_time(observed, "TimeOfOfferChange"),
        offers=offers,
        complete=count is not None and 0 <= count <= listed,
        source=source,
        subscriber=subscriber.strip().upper() if isinstance(subscriber, str) else "",
        notification_id=notification_id.strip(),
        raw_offer_count=count,
    )


def snapshot_from_offers_result(result: Any, *, observed_at: dt.datetime) -> OfferSnapshot:
    """The ``payload`` of a Product Pricing getItemOffers answer (``GetOffersResult``)."""
    payload = _dict(result, "payload")
    identifier = _as_dict(payload.get("Identifier"))
    asin = payload.get("ASIN") or identifier.get("ASIN")
    if not isinstance(asin, str) or not asin.strip():
        raise SnapshotError("The offers result names no ASIN.")
    condition = _condition(payload.get("ItemCondition") or identifier.get("ItemCondition"))
    offers, listed = _offers(payload.get("Offers", []))
    summary = _as_dict(payload.get("Summary"))
    total = summary.get("TotalOfferCount")
    count = total if isinstance(total, int) else _offer_count(summary, condition)
    return OfferSnapshot(
        asin=asin.strip().upper()[:10],
        marketplace=_marketplace(payload.get("marketplaceId") or identifier.get("MarketplaceId")),
        condition=condition,
        observed_at=observed_at,
        offers=offers,
        complete=count is not None and 0 <= count <= listed,
        source="api_poll",
        raw_offer_count=count,
    )
