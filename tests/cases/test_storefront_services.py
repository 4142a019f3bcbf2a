from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.models import CaseStorefront, OperatorGroup, PresenceState, Storefront
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, attach, seller_id, sight

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(personas):
    return CaseFactory(brand=BrandFactory(team=personas.team))


def test_attach_creates_storefront_once_and_keeps_cjk_name(personas, case):
    actor = Actor.of_user(personas.agent)
    link = services.storefront_attach(
        case=case, seller_id="a1szhaoyunlai01", name="深圳市好运来贸易有限公司", actor=actor
    )
    again = services.storefront_attach(case=case, seller_id="A1SZHAOYUNLAI01", actor=actor)
    assert link.pk == again.pk
    storefront = link.storefront
    assert storefront.seller_id == "A1SZHAOYUNLAI01"
    assert storefront.name == "深圳市好运来贸易有限公司"
    assert storefront.storefront_url == "https://www.amazon.com/s?me=A1SZHAOYUNLAI01"
    assert Storefront.objects.count() == 1
    assert AuditEvent.objects.filter(action="storefront.attached").count() == 1


def test_invalid_seller_id_is_refused(personas, case):
    with pytest.raises(ValidationError) as error:
        services.storefront_attach(case=case, seller_id="not-a-seller", actor=Actor.of_user(personas.agent))
    assert "seller_id" in error.value.message_dict
    assert not Storefront.objects.exists()


def test_authorized_seller_cannot_be_a_hijacker(personas, case):
    services.authorized_seller_add(
        brand=case.brand, marketplace="US", seller_id=seller_id(7), actor=Actor.of_user(personas.manager)
    )
    with pytest.raises(ValidationError) as error:
        services.storefront_attach(case=case, seller_id=seller_id(7), actor=Actor.of_user(personas.agent))
    assert "authorized seller" in error.value.message_dict["seller_id"][0]


def test_only_managers_manage_authorized_sellers(personas, case):
    with pytest.raises(PermissionDenied):
        services.authorized_seller_add(
            brand=case.brand, marketplace="US", seller_id=seller_id(7), actor=Actor.of_user(personas.agent)
        )


def test_sightings_extend_first_and_last_seen(personas, case):
    storefront = attach(case, 1)
    middle = sight(case, storefront, days_ago=2)
    latest = sight(case, storefront, days_ago=0.5)
    earliest = sight(case, storefront, days_ago=4)
    link = CaseStorefront.objects.get(case=case, storefront=storefront)
    assert link.first_seen == earliest.seen_at
    assert link.last_seen == latest.seen_at
    assert middle.price == Decimal("9.99")


def test_sighting_validation(personas, case):
    storefront = attach(case, 1)
    actor = Actor.of_user(personas.agent)
    with pytest.raises(ValidationError) as error:
        services.sighting_record(case=case, storefront=storefront, actor=actor, price=Decimal("5"))
    assert "currency" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.sighting_record(case=case, storefront=storefront, actor=actor, fulfillment="drone")
    assert "fulfillment" in error.value.message_dict


def test_gone_storefront_comes_back_when_seen_again(personas, case):
    storefront = attach(case, 1)
    sight(case, storefront, days_ago=3)
    link = CaseStorefront.objects.get(case=case, storefront=storefront)
    link = services.case_storefront_mark_gone(link=link, actor=Actor.of_user(personas.agent))
    assert link.state == PresenceState.GONE
    sight(case, storefront, days_ago=0)
    link.refresh_from_db()
    assert link.state == PresenceState.ACTIVE


def test_operator_links_merge_groups(personas, case):
    a, b, c, d = (attach(case, n) for n in range(1, 5))
    actor = Actor.of_user(personas.agent)
    first = services.operator_link(storefronts=[a, b], reason="phone", detail="+86 755 0000", actor=actor)
    services.operator_link(storefronts=[c, d], reason="address", actor=actor)
    merged = services.operator_link(storefronts=[b, c], reason="rotation", actor=actor)
    assert merged.pk == first.pk
    assert OperatorGroup.objects.count() == 1
    members = set(merged.links.values_list("storefront__seller_id", flat=True))
    assert members == {s.seller_id for s in (a, b, c, d)}
    assert set(merged.links.values_list("reason", flat=True)) == {"phone", "address", "rotation"}


def test_operator_link_needs_two_storefronts_and_a_known_reason(personas, case):
    a, b = attach(case, 1), attach(case, 2)
    actor = Actor.of_user(personas.agent)
    with pytest.raises(ValidationError):
        services.operator_link(storefronts=[a], reason="phone", actor=actor)
    with pytest.raises(ValidationError):
        services.operator_link(storefronts=[a, b], reason="vibes", actor=actor)
