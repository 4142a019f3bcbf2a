import pytest
from django.core.exceptions import ValidationError

from evidence.amazon import (
    marketplace,
    seller_profile_url,
    storefront_url,
    validate_asin,
    validate_order_id,
    validate_seller_id,
)


@pytest.mark.parametrize("value", ["B08N5WRWNW", "0306406152", "B0C1HJ4K2L"])
def test_valid_asins(value):
    validate_asin(value)


@pytest.mark.parametrize("value", ["b08n5wrwnw", "B08N5WRWN", "B08N5WRWNW1", "B08N5-RWNW", "", "B08N5WRWN\n"])
def test_invalid_asins(value):
    with pytest.raises(ValidationError, match="ASIN"):
        validate_asin(value)


@pytest.mark.parametrize("value", ["A1B2C3D4E5F6G7", "ATVPDKIKX0DER", "A2ABCDEFGHIJK1"])
def test_valid_seller_ids(value):
    validate_seller_id(value)


@pytest.mark.parametrize("value", ["B1B2C3D4E5F6G7", "A1B2", "a1b2c3d4e5f6g7", "A1B2C3D4E5F6G7H8I9"])
def test_invalid_seller_ids(value):
    with pytest.raises(ValidationError, match="seller ID"):
        validate_seller_id(value)


def test_order_ids():
    validate_order_id("112-1234567-1234567")
    for bad in ["112-123456-1234567", "1121234567123456", "ABC-1234567-1234567"]:
        with pytest.raises(ValidationError, match="order ID"):
            validate_order_id(bad)


def test_marketplace_lookup_by_code_alias_and_id():
    assert marketplace("de").marketplace_id == "A1PA6795UKMFR9"
    assert marketplace("GB").code == "UK"
    assert marketplace("A1VC38T7YXB528").code == "JP"
    with pytest.raises(ValidationError, match="marketplace"):
        marketplace("XX")


def test_urls_derive_from_seller_id():
    assert storefront_url("JP", "A1B2C3D4E5F6G7") == "https://www.amazon.co.jp/s?me=A1B2C3D4E5F6G7"
    assert seller_profile_url("US", "A1B2C3D4E5F6G7") == "https://www.amazon.com/sp?seller=A1B2C3D4E5F6G7"
