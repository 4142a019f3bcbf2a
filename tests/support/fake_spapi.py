"""A local stand-in for Login with Amazon and the Product Pricing API (v0 shapes)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from evidence.amazon import MARKETPLACES


def offer(seller_id: str, price: float = 19.99, *, fba: bool = False, buy_box: bool | None = None) -> dict[str, Any]:
    """One ``OfferDetail`` as getItemOffers returns it."""
    detail: dict[str, Any] = {
        "SellerId": seller_id,
        "SubCondition": "new",
        "ListingPrice": {"CurrencyCode": "USD", "Amount": price},
        "Shipping": {"CurrencyCode": "USD", "Amount": 0},
        "ShippingTime": {"maximumHours": 48, "minimumHours": 24, "availabilityType": "NOW"},
        "ShipsFrom": {"Country": "CN"},
        "SellerFeedbackRating": {"FeedbackCount": 3, "SellerPositiveFeedbackRating": 67.0},
        "PrimeInformation": {"IsPrime": fba, "IsNationalPrime": fba},
        "IsFulfilledByAmazon": fba,
        "IsFeaturedMerchant": False,
    }
    if buy_box is not None:
        detail["IsBuyBoxWinner"] = buy_box
    return detail


def offers_payload(asin: str, marketplace: str, offers: list[dict[str, Any]]) -> dict[str, Any]:
    marketplace_id = MARKETPLACES[marketplace].marketplace_id
    return {
        "ASIN": asin,
        "status": "Success",
        "ItemCondition": "New",
        "marketplaceId": marketplace_id,
        "Identifier": {"MarketplaceId": marketplace_id, "ItemCondition": "New", "ASIN": asin},
        "Summary": {
            "TotalOfferCount": len(offers),
            "NumberOfOffers": [{"condition": "new", "fulfillmentChannel": "Merchant", "OfferCount": len(offers)}],
        },
        "Offers": offers,
    }


@dataclass
class FakeSpApi:
    url: str = ""
    offers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by ASIN
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    throttle_next: int = 0  # answer this many calls with 429
    refuse_login: bool = False
    tokens_issued: int = 0


@contextmanager
def fake_spapi() -> Iterator[FakeSpApi]:
    state = FakeSpApi()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            if self.headers.get("x-amz-access-token", "").startswith("Atza|fake"):
                return True
            self._answer(
                403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}
            )
            return False

        def _throttled(self) -> bool:
            if state.throttle_next > 0:
                state.throttle_next -= 1
                self._answer(429, {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]})
                return True
            return False

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = urlsplit(self.path).path
            if path == "/auth/o2/token":
                form = parse_qs(raw.decode())
                state.requests.append(("POST", path, form))
                if state.refuse_login or form.get("grant_type") != ["refresh_token"]:
                    self._answer(
                        400,
                        {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"},
                    )
                    return
                state.tokens_issued += 1
                self._answer(
                    200, {"access_token": f"Atza|fake{state.tokens_issued}", "token_type": "bearer", "expires_in": 3600}
                )
                return
            body = json.loads(raw or b"{}")
            state.requests.append(("POST", path, body))
            if path != "/batches/products/pricing/v0/itemOffers" or not self._authorized() or self._throttled():
                return
            responses = []
            for request in body["requests"]:
                asin = request["uri"].split("/")[-2]
                marketplace = next(
                    m.code for m in MARKETPLACES.values() if m.marketplace_id == request["MarketplaceId"]
                )
                if asin not in state.offers:
                    responses.append(
                        {
                            "status": {"statusCode": 400, "reasonPhrase": "Bad Request"},
                            "body": {"errors": [{"code": "InvalidInput", "message": f"Invalid ASIN {asin}"}]},
                            "request": {
                                "Asin": asin,
                                "MarketplaceId": request["MarketplaceId"],
                                "ItemCondition": "New",
                            },
                        }
                    )
                    continue
                responses.append(
                    {
                        "status": {"statusCode": 200, "reasonPhrase": "OK"},
                        "headers": {"x-amzn-RequestId": "fake"},
                        "body": {"payload": offers_payload(asin, marketplace, state.offers[asin])},
                        "request": {"Asin": asin, "MarketplaceId": request["MarketplaceId"], "ItemCondition": "New"},
                    }
                )
            self._answer(200, {"responses": responses})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append(("GET", parts.path, parse_qs(parts.query)))
            if not self._authorized() or self._throttled():
                return
            segments = parts.path.split("/")
            if parts.path.startswith("/products/pricing/v0/items/") and segments[-1] == "offers":
                asin = segments[-2]
                query = parse_qs(parts.query)
                marketplace = next(
                    m.code for m in MARKETPLACES.values() if m.marketplace_id == query["MarketplaceId"][0]
                )
                self._answer(200, {"payload": offers_payload(asin, marketplace, state.offers.get(asin, []))})
                return
            self._answer(404, {"errors": [{"code": "NotFound", "message": "Resource not found"}]})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
