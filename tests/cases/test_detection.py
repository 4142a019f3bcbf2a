import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.models import (
    Capture,
    Case,
    CaseStorefront,
    Notification,
    NotificationKind,
    OperatorLink,
    PresenceState,
    Sighting,
    Storefront,
    WebhookDelivery,
)
from cases.services.detection import offers_observe
from cases.services.operators import operator_links_detect
from cases.services.watch import sp_api_credentials_set, watch_add
from cases.services.webhooks import webhook_endpoint_create
from evidence.offers import Offer, OfferSnapshot
from tests import factories

ASIN = "B08N5WRWNW"


def snapshot(*offers: Offer, asin: str = ASIN, complete: bool = True, minutes_ago: float = 0) -> OfferSnapshot:
    return OfferSnapshot(
        asin=asin,
        marketplace="US",
        condition="new",
        observed_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        offers=offers,
        complete=complete,
        source="notification",
    )


def offer(n: int, price: str = "12.99", *, fba: bool = False, buy_box: bool | None = None) -> Offer:
    return Offer(
        seller_id=factories.seller_id(n),
        price=Decimal(price),
        currency="USD",
        fulfillment="FBA" if fba else "FBM",
        buy_box=buy_box,
    )


@pytest.fixture
def brand(personas):
    brand = factories.BrandFactory(team=personas.team, name="Acme")
    return services.brand_update(brand=brand, actor=factories.manager_of(personas.team), capture_new_hijackers=False)


def test_first_hijacker_opens_a_case_and_tells_the_team(personas, brand, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        result = offers_observe(brand=brand, snapshot=snapshot(offer(1, buy_box=True)))
    case = Case.objects.get(team=personas.team, asin=ASIN)
    assert result.case == case
    assert (case.status, case.brand) == ("new", brand)
    sighting = Sighting.objects.get(case=case)
    assert (sighting.storefront.seller_id, sighting.price, sighting.buy_box, sighting.source) == (
        factories.seller_id(1),
        Decimal("12.99"),
        True,
        "notification",
    )
    notified = set(
        Notification.objects.filter(kind=NotificationKind.NEW_HIJACKER).values_list("user__username", flat=True)
    )
    assert notified == {"manager", "agent"}  # viewers are not paged


def test_new_seller_fires_the_webhook_once(personas, brand, monkeypatch):
    monkeypatch.setattr("cases.services.webhooks._check_url", lambda url: url)
    webhook_endpoint_create(
        team=personas.team,
        url="https://hooks.example.com/x",
        events=["sighting.new_seller"],
        actor=factories.manager_of(personas.team),
    )
    offers_observe(brand=brand, snapshot=snapshot(offer(1), minutes_ago=5))
    offers_observe(brand=brand, snapshot=snapshot(offer(1), offer(2)))
    events = WebhookDelivery.objects.values_list("payload__object__storefront", flat=True)
    assert WebhookDelivery.objects.filter(event_type="sighting.new_seller").count() == 2
    assert len(set(events)) == 2


def test_same_terms_extend_last_seen_and_new_terms_are_a_new_sighting(personas, brand):
    offers_observe(brand=brand, snapshot=snapshot(offer(1), minutes_ago=30))
    result = offers_observe(brand=brand, snapshot=snapshot(offer(1), minutes_ago=10))
    link = CaseStorefront.objects.get()
    assert (result.sightings, result.extended) == (0, 1)
    assert Sighting.objects.count() == 1
    assert link.last_seen > link.first_seen
    offers_observe(brand=brand, snapshot=snapshot(offer(1, "9.99", fba=True)))
    assert list(Sighting.objects.values_list("price", "fulfillment")) == [
        (Decimal("9.99"), "FBA"),
        (Decimal("12.99"), "FBM"),
    ]


def test_a_missing_buy_box_flag_changes_nothing(personas, brand):
    offers_observe(brand=brand, snapshot=snapshot(offer(1, buy_box=True), minutes_ago=5))
    offers_observe(brand=brand, snapshot=snapshot(offer(1, buy_box=None)))
    assert Sighting.objects.get().buy_box is True


def test_authorized_own_and_amazon_offers_are_never_hijackers(personas, brand):
    manager = factories.manager_of(personas.team)
    services.authorized_seller_add(brand=brand, marketplace="US", seller_id=factories.seller_id(7), actor=manager)
    sp_api_credentials_set(
        brand=brand,
        selling_partner_id=factories.seller_id(8),
        region="na",
        client_id="amzn1.application-oa2-client.x",
        client_secret="secret",
        refresh_token="Atzr|token",
        actor=manager,
    )
    amazon = Offer(seller_id="ATVPDKIKX0DER", price=Decimal("20"), currency="USD", fulfillment="FBA", buy_box=True)
    result = offers_observe(brand=brand, snapshot=snapshot(offer(7), offer(8), amazon))
    assert result.case is None
    assert not Case.objects.exists()
    brand = services.brand_update(brand=brand, actor=manager, amazon_is_authorized=False)
    offers_observe(brand=brand, snapshot=snapshot(offer(7), amazon))
    assert list(Storefront.objects.values_list("seller_id", flat=True)) == ["ATVPDKIKX0DER"]


def test_seller_missing_from_a_complete_list_is_gone_but_not_from_a_partial_one(personas, brand):
    offers_observe(brand=brand, snapshot=snapshot(offer(1), offer(2), minutes_ago=10))
    offers_observe(brand=brand, snapshot=snapshot(offer(1), complete=False, minutes_ago=5))
    assert set(CaseStorefront.objects.values_list("state", flat=True)) == {PresenceState.ACTIVE}
    result = offers_observe(brand=brand, snapshot=snapshot(offer(1)))
    assert result.gone == [factories.seller_id(2)]
    gone = CaseStorefront.objects.get(storefront__seller_id=factories.seller_id(2))
    assert gone.state == PresenceState.GONE
    # Back again: a new sighting makes it active.
    offers_observe(brand=brand, snapshot=snapshot(offer(1), offer(2)))
    gone.refresh_from_db()
    assert gone.state == PresenceState.ACTIVE


def test_an_older_snapshot_does_not_mark_a_seller_gone(personas, brand):
    offers_observe(brand=brand, snapshot=snapshot(offer(1), offer(2)))
    result = offers_observe(brand=brand, snapshot=snapshot(offer(1), minutes_ago=30))
    assert result.gone == []


def test_a_hijacker_joins_the_open_case_of_the_listing(personas, brand):
    case = factories.CaseFactory(brand=brand, asin=ASIN)
    offers_observe(brand=brand, snapshot=snapshot(offer(3)))
    assert Case.objects.count() == 1
    assert CaseStorefront.objects.get().case == case


def test_new_hijackers_get_their_pages_captured_when_the_brand_wants_it(personas, brand):
    brand = services.brand_update(brand=brand, actor=factories.manager_of(personas.team), capture_new_hijackers=True)
    offers_observe(brand=brand, snapshot=snapshot(offer(1)))
    kinds = sorted(Capture.objects.values_list("kind", "url"))
    assert kinds == [
        ("offers", f"https://www.amazon.com/dp/{ASIN}?aod=1"),
        ("seller_profile", f"https://www.amazon.com/sp?seller={factories.seller_id(1)}"),
        ("storefront", f"https://www.amazon.com/s?me={factories.seller_id(1)}"),
    ]


def test_storefronts_sharing_profile_details_are_linked_with_the_rule_that_matched(personas, brand):
    case = factories.CaseFactory(brand=brand)
    one, two, three = (factories.attach(case, n) for n in (1, 2, 3))
    agent = factories.manager_of(personas.team)
    one = services.storefront_update(
        storefront=one, actor=agent, business_name="Shenzhen Foo Trading Co., Ltd.", phone="+86 755 1234 5678"
    )
    services.storefront_update(storefront=two, actor=agent, business_name="SHENZHEN FOO TRADING CO LTD")
    services.storefront_update(storefront=three, actor=agent, phone="86-755-12345678")
    operator_links_detect(storefront=one)
    links = {(link.storefront.seller_id, link.reason) for link in OperatorLink.objects.select_related("storefront")}
    assert links == {
        (one.seller_id, "business_name"),
        (two.seller_id, "business_name"),
        (one.seller_id, "phone"),
        (three.seller_id, "phone"),
    }
    assert len({link.group_id for link in OperatorLink.objects.all()}) == 1


def test_storefronts_taking_turns_on_two_listings_are_linked(personas, brand):
    for asin in ("B000000001", "B000000002"):
        offers_observe(brand=brand, snapshot=snapshot(offer(1), asin=asin, minutes_ago=60))
        offers_observe(brand=brand, snapshot=snapshot(offer(2), asin=asin, minutes_ago=10))
    operator_links_detect(storefront=Storefront.objects.get(seller_id=factories.seller_id(2)))
    link = OperatorLink.objects.filter(reason="rotation").first()
    assert link is not None
    assert "B000000001, B000000002" in link.detail
    assert OperatorLink.objects.filter(reason="rotation").count() == 2


def test_sellers_at_the_same_time_are_not_rotation(personas, brand):
    for asin in ("B000000001", "B000000002"):
        offers_observe(brand=brand, snapshot=snapshot(offer(1), offer(2), asin=asin))
    operator_links_detect(storefront=Storefront.objects.get(seller_id=factories.seller_id(2)))
    assert not OperatorLink.objects.exists()


def test_watch_list_belongs_to_managers(personas, brand):
    from django.core.exceptions import PermissionDenied

    from evidence.services import Actor

    with pytest.raises(PermissionDenied):
        watch_add(brand=brand, asin=ASIN, marketplace="US", actor=Actor.of_user(personas.agent))
    item = watch_add(brand=brand, asin=ASIN.lower(), marketplace="us", actor=factories.manager_of(personas.team))
    assert (item.asin, item.marketplace, item.interval_minutes) == (ASIN, "US", 60)
