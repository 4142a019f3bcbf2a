import pytest
from django.contrib.auth.models import AnonymousUser

from cases.models import Brand, Case, CaseStorefront, Evidence, Membership, Sighting, Storefront, Team
from tests.factories import BrandFactory, CaseFactory, add_evidence, attach, sight

pytestmark = pytest.mark.django_db

SCOPED = [Team, Membership, Brand, Case, Storefront, CaseStorefront, Sighting, Evidence]


@pytest.fixture
def world(personas):
    for team in (personas.team, personas.outsider_team):
        case = CaseFactory(brand=BrandFactory(team=team))
        storefront = attach(case, 1)
        sight(case, storefront)
        add_evidence(case)
    return personas


@pytest.mark.parametrize("model", SCOPED)
def test_members_see_only_their_team(world, model):
    for user in (world.manager, world.agent, world.viewer):
        rows = model.objects.visible_to(user)
        assert rows.exists()
        team_ids = {model.objects.filter(pk=row.pk).values_list(model.team_path, flat=True).get() for row in rows}
        assert team_ids == {world.team.pk}


@pytest.mark.parametrize("model", SCOPED)
def test_outsider_sees_none_of_the_team(world, model):
    team_ids = set(model.objects.visible_to(world.outsider).values_list(model.team_path, flat=True))
    assert team_ids == {world.outsider_team.pk}


@pytest.mark.parametrize("model", SCOPED)
def test_anonymous_and_inactive_users_see_nothing(world, model):
    assert not model.objects.visible_to(AnonymousUser()).exists()
    world.agent.is_active = False
    world.agent.save(update_fields=["is_active"])
    assert not model.objects.visible_to(world.agent).exists()
