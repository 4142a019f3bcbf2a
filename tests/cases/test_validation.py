"""Bad input to services is refused with a message naming the field, never a crash."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Case
from evidence.services import Actor
from tests.factories import BrandFactory, CaseFactory, attach

pytestmark = pytest.mark.django_db


def fields_of(call):
    with pytest.raises(ValidationError) as error:
        call()
    return set(error.value.message_dict)


def test_naive_datetimes_are_refused(personas):
    case = CaseFactory(brand=BrandFactory(team=personas.team))
    storefront = attach(case, 1)
    actor = Actor.of_user(personas.agent)
    naive = dt.datetime(2026, 1, 1, 12, 0)  # no tzinfo: the point of the test
    assert fields_of(
        lambda: services.sighting_record(case=case, storefront=storefront, actor=actor, seen_at=naive)
    ) == {"seen_at"}
    assert fields_of(
        lambda: services.warning_record(
            case=case, storefront=storefront, text="x", channel="email", actor=actor, sent_at=naive
        )
    ) == {"sent_at"}


def test_unknown_role_is_refused(personas):
    assert fields_of(
        lambda: services.membership_set(
            team=personas.team, user=personas.viewer, role="admin", actor=Actor.of_user(personas.manager)
        )
    ) == {"role"}


def test_duplicates_name_their_field(personas):
    brand = BrandFactory(team=personas.team, name="Lumora")
    manager = Actor.of_user(personas.manager)
    assert fields_of(lambda: services.brand_create(team=personas.team, name="Lumora", actor=manager)) == {"name"}
    case = CaseFactory(brand=brand)
    storefront = attach(case, 1)
    services.test_buy_record(
        case=case, storefront=storefront, order_id="112-1234567-1234567", order_date=dt.date(2026, 1, 1), actor=manager
    )
    assert fields_of(
        lambda: services.test_buy_record(
            case=case,
            storefront=storefront,
            order_id="112-1234567-1234567",
            order_date=dt.date(2026, 1, 1),
            actor=manager,
        )
    ) == {"order_id"}


def test_nul_characters_are_refused(personas):
    brand = BrandFactory(team=personas.team)
    actor = Actor.of_user(personas.agent)
    assert fields_of(
        lambda: services.case_open(brand=brand, asin="B0C1HJ4K2L", marketplace="US", title="a\x00b", actor=actor)
    ) == {"title"}
    assert not Case.objects.exists()


def test_last_manager_cannot_step_down(personas):
    membership = personas.team.memberships.get(user=personas.manager)
    assert fields_of(
        lambda: services.membership_set(
            team=personas.team, user=personas.manager, role="agent", actor=Actor.of_user(personas.manager)
        )
    ) == {"role"}
    assert fields_of(
        lambda: services.membership_remove(membership=membership, actor=Actor.of_user(personas.manager))
    ) == {"role"}
