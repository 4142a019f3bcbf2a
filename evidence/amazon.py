"""Amazon facts the product relies on (docs/amazon.md): marketplaces and ID formats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from evidence.errors import field_error


@dataclass(frozen=True)
class Marketplace:
    code: str
    marketplace_id: str
    region: str
    domain: str

    @property
    def label(self) -> str:
        return f"{self.code} ({self.domain})"


_MARKETPLACES = [
    Marketplace("US", "ATVPDKIKX0DER", "na", "amazon.com"),
    Marketplace("CA", "A2EUQ1WTGCTBG2", "na", "amazon.ca"),
    Marketplace("MX", "A1AM78C64UM0Y8", "na", "amazon.com.mx"),
    Marketplace("BR", "A2Q3Y263D00KWC", "na", "amazon.com.br"),
    Marketplace("UK", "A1F83G8C2ARO7P", "eu", "amazon.co.uk"),
    Marketplace("DE", "A1PA6795UKMFR9", "eu", "amazon.de"),
    Marketplace("FR", "A13V1IB3VIYZZH", "eu", "amazon.fr"),
    Marketplace("IT", "APJ6JRA9NG5V4", "eu", "amazon.it"),
    Marketplace("ES", "A1RKKUPIHCS9HS", "eu", "amazon.es"),
    Marketplace("NL", "A1805IZSGTT6HS", "eu", "amazon.nl"),
    Marketplace("SE", "A2NODRKZP88ZB9", "eu", "amazon.se"),
    Marketplace("PL", "A1C3SOZRARQ6R3", "eu", "amazon.pl"),
    Marketplace("BE", "AMEN7PMS3EDWL", "eu", "amazon.com.be"),
    Marketplace("IE", "A28R8C7NBKEWEA", "eu", "amazon.ie"),
    Marketplace("TR", "A33AVAJ2PDY3EV", "eu", "amazon.com.tr"),
    Marketplace("AE", "A2VIGQ35RCS4UG", "eu", "amazon.ae"),
    Marketplace("SA", "A17E79C6D8DWNP", "eu", "amazon.sa"),
    Marketplace("EG", "ARBP9OOSHTCHU", "eu", "amazon.eg"),
    Marketplace("IN", "A21TJRUUN4KGV", "eu", "amazon.in"),
    Marketplace("ZA", "AE08WJ6YKNBMC", "eu", "amazon.co.za"),
    Marketplace("JP", "A1VC38T7YXB528", "fe", "amazon.co.jp"),
    Marketplace("AU", "A39IBJ37TRP1C6", "fe", "amazon.com.au"),
    Marketplace("SG", "A19VAU5U5O7RUS", "fe", "amazon.sg"),
]
MARKETPLACES: dict[str, Marketplace] = {m.code: m for m in _MARKETPLACES}
MARKETPLACES_BY_ID: dict[str, Marketplace] = {m.marketplace_id: m for m in _MARKETPLACES}
# Amazon's own code for the United Kingdom is GB in some APIs; we keep UK and accept GB.
_ALIASES = {"GB": "UK"}
MARKETPLACE_CHOICES = [(m.code, m.label) for m in _MARKETPLACES]

ASIN_RE = re.compile(r"^[A-Z0-9]{10}$")
SELLER_ID_RE = re.compile(r"^A[A-Z0-9]{11,15}$")
ORDER_ID_RE = re.compile(r"^\d{3}-\d{7}-\d{7}$")


def marketplace(code: str) -> Marketplace:
    """The marketplace for a code (``US``, ``de``, ``GB``) or an SP-API marketplace ID."""
    key = code.strip().upper()
    key = _ALIASES.get(key, key)
    found = MARKETPLACES.get(key) or MARKETPLACES_BY_ID.get(code.strip())
    if found is None:
        message = _("%(code)s is not an Amazon marketplace code (e.g. US, DE, JP).") % {"code": code}
        raise field_error("marketplace", message, "invalid_marketplace")
    return found


def validate_asin(value: str) -> None:
    if not ASIN_RE.match(value):
        raise ValidationError(
            _("An ASIN is 10 uppercase letters and digits, such as B08N5WRWNW; got %(value)s."),
            code="invalid_asin",
            params={"value": value},
        )


def validate_seller_id(value: str) -> None:
    if not SELLER_ID_RE.match(value):
        raise ValidationError(
            _(
                "A seller ID is 12 to 16 uppercase letters and digits starting with A, "
                "such as A2ABCDEFGHIJK1; got %(value)s."
            ),
            code="invalid_seller_id",
            params={"value": value},
        )


def validate_order_id(value: str) -> None:
    if not ORDER_ID_RE.match(value):
        raise ValidationError(
            _("An Amazon order ID has the form 123-1234567-1234567; got %(value)s."),
            code="invalid_order_id",
            params={"value": value},
        )


def storefront_url(marketplace_code: str, seller_id: str) -> str:
    return f"https://www.{MARKETPLACES[marketplace_code].domain}/s?me={seller_id}"


def seller_profile_url(marketplace_code: str, seller_id: str) -> str:
    return f"https://www.{MARKETPLACES[marketplace_code].domain}/sp?seller={seller_id}"


def listing_url(marketplace_code: str, asin: str) -> str:
    return f"https://www.{MARKETPLACES[marketplace_code].domain}/dp/{asin}"


def offers_url(marketplace_code: str, asin: str) -> str:
    """The listing with its "all offers" panel open."""
    return f"https://www.{MARKETPLACES[marketplace_code].domain}/dp/{asin}?aod=1"
