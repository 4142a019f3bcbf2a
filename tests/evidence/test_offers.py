import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from evidence.offers import SnapshotError, snapshot_from_notification, snapshot_from_offers_result

REFERENCE = Path(__file__).resolve().parents[1] / "support" / "sp_api"


def schema_example() -> dict:
    return json.loads((REFERENCE / "AnyOfferChangedNotification.json").read_text())["examples"][0]


def pricing_example() -> dict:
    spec = json.loads((REFERENCE / "productPricingV0.json").read_text())
    batch = spec["paths"]["/batches/products/pricing/v0/itemOffers"]["post"]
    return batch["responses"]["200"]["x-amzn-api-sandbox"]["static"][0]["response"]["responses"][0]["body"]["payload"]


def test_amazons_own_example_notification_parses():
    document = schema_example()
    # The schema's example uses placeholder IDs; real ones look like this.
    document["Payload"]["AnyOfferChangedNotification"]["OfferChangeTrigger"]["ASIN"] = "B08N5WRWNW"
    document["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["SellerId"] = "A2HIJACKER0001"
    snapshot = snapshot_from_notification(document)
    assert snapshot.asin == "B08N5WRWNW"
    assert snapshot.marketplace == "US"
    assert snapshot.condition == "new"
    assert snapshot.notification_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    assert snapshot.subscriber == "A3TH9S8BH6GOGM"
    assert snapshot.observed_at == dt.datetime(2020, 7, 13, 19, 42, 4, 284000, tzinfo=dt.UTC)
    (offer,) = snapshot.offers
    assert offer.seller_id == "A2HIJACKER0001"
    assert offer.price == Decimal("133.0")  # listing 23 + shipping 110
    assert offer.currency == "USD"
    assert offer.fulfillment == "FBA"
    assert offer.ships_from == "MI, USA"
    assert offer.prime is True


def test_missing_buy_box_flag_is_unknown_not_false():
    document = schema_example()
    offer = document["Payload"]["AnyOfferChangedNotification"]["Offers"][0]
    offer["SellerId"] = "A2HIJACKER0001"
    offer.pop("IsBuyBoxWinner", None)
    assert snapshot_from_notification(document).offers[0].buy_box is None
    offer["IsBuyBoxWinner"] = False
    assert snapshot_from_notification(document).offers[0].buy_box is False


def test_offer_list_is_complete_only_when_it_holds_every_offer_of_the_condition():
    document = schema_example()
    body = document["Payload"]["AnyOfferChangedNotification"]
    body["Offers"][0]["SellerId"] = "A2HIJACKER0001"
    # The example counts 10 new offers but lists one: sellers missing from it may still sell.
    assert snapshot_from_notification(document).complete is False
    body["Summary"]["NumberOfOffers"] = [{"Condition": "new", "FulfillmentChannel": "Amazon", "OfferCount": 1}]
    assert snapshot_from_notification(document).complete is True


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(NotificationType="FEED_PROCESSING_FINISHED"), "ANY_OFFER_CHANGED"),
        (lambda d: d["NotificationMetadata"].pop("NotificationId"), "NotificationId"),
        (
            lambda d: d["Payload"]["AnyOfferChangedNotification"]["OfferChangeTrigger"].update(MarketplaceId="XX"),
            "marketplace",
        ),
        (lambda d: d["Payload"]["AnyOfferChangedNotification"].update(Offers="none"), "Offers"),
        (
            lambda d: d["Payload"]["AnyOfferChangedNotification"]["OfferChangeTrigger"].update(
                TimeOfOfferChange="yesterday"
            ),
            "ISO 8601",
        ),
    ],
)
def test_malformed_notifications_are_refused_with_a_reason(mutate, message):
    document = copy.deepcopy(schema_example())
    mutate(document)
    with pytest.raises(SnapshotError, match=message):
        snapshot_from_notification(document)


def test_unreadable_offers_are_skipped_and_one_seller_counts_once():
    document = schema_example()
    offers = document["Payload"]["AnyOfferChangedNotification"]["Offers"]
    template = offers[0]
    offers[:] = [
        {**template, "SellerId": "A2HIJACKER0001", "ListingPrice": {"Amount": 10, "CurrencyCode": "USD"}},
        {**template, "SellerId": "A2HIJACKER0001", "ListingPrice": {"Amount": 12, "CurrencyCode": "USD"}},
        {**template, "SellerId": "not a seller"},
        "garbage",
        {**template, "SellerId": "A2HIJACKER0002", "ListingPrice": {"Amount": "NaN", "CurrencyCode": "USD"}},
    ]
    snapshot = snapshot_from_notification(document)
    assert [o.seller_id for o in snapshot.offers] == ["A2HIJACKER0001", "A2HIJACKER0002"]
    assert snapshot.offers[0].price == Decimal("120")  # the first offer, with its shipping
    assert snapshot.offers[1].price is None


def test_product_pricing_result_from_amazons_sandbox_example_parses():
    observed = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    snapshot = snapshot_from_offers_result(pricing_example(), observed_at=observed)
    assert snapshot.asin == "B000P6Q7MY"
    assert snapshot.marketplace == "US"
    assert snapshot.source == "api_poll"
    assert snapshot.observed_at == observed
    (offer,) = snapshot.offers
    assert (offer.seller_id, offer.price, offer.fulfillment, offer.buy_box) == ("A2SNBFWOFW4SWG", 21, "FBM", True)
    assert snapshot.complete is True
