import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Invitation, Membership, Role
from cases.services.invitations import invitation_create
from evidence.services import Actor
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


def members_url(team):
    return f"{reverse('cases:team_settings')}?team={team.pk}"


def invitations_url(team):
    return f"{reverse('cases:team_invitations')}?team={team.pk}"


def membership(team, user):
    return Membership.objects.get(team=team, user=user)


def invite(personas, email="newbie@example.com", role=Role.AGENT):
    return invitation_create(team=personas.team, email=email, role=role, actor=Actor.of_user(personas.manager))


def test_members_are_listed_for_every_member_and_404_for_outsiders(client, personas):
    client.force_login(personas.viewer)
    page = client.get(reverse("cases:team_settings")).content.decode()
    for name in ("manager", "agent", "viewer"):
        assert name in page
    assert "outsider" not in page
    assert "Change role" not in page
    client.force_login(personas.outsider)
    assert client.get(members_url(personas.team)).status_code == 404
    assert client.get(invitations_url(personas.team)).status_code == 404
    assert client.post(members_url(personas.team), {"membership": 1, "action": "remove"}).status_code == 404


def test_manager_changes_a_role_and_removes_a_member(client, personas):
    client.force_login(personas.manager)
    agent = membership(personas.team, personas.agent)
    response = client.post(
        members_url(personas.team), {"membership": agent.pk, "action": "role", f"m{agent.pk}-role": "manager"}
    )
    assert response.status_code == 302
    assert membership(personas.team, personas.agent).role == Role.MANAGER
    viewer = membership(personas.team, personas.viewer)
    client.post(
        members_url(personas.team), {"membership": viewer.pk, "action": "remove", f"m{viewer.pk}-role": "viewer"}
    )
    assert not Membership.objects.filter(pk=viewer.pk).exists()


def test_the_last_manager_is_kept_with_the_error_next_to_the_role(client, personas):
    client.force_login(personas.manager)
    own = membership(personas.team, personas.manager)
    for action in ("role", "remove"):
        response = client.post(
            members_url(personas.team), {"membership": own.pk, "action": action, f"m{own.pk}-role": "agent"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "A team needs at least one manager." in html
        assert f'id="id_m{own.pk}-role_error"' in html
    assert membership(personas.team, personas.manager).role == Role.MANAGER


def test_agents_and_viewers_cannot_change_members(client, personas):
    target = membership(personas.team, personas.viewer)
    for user in (personas.agent, personas.viewer):
        client.force_login(user)
        response = client.post(
            members_url(personas.team), {"membership": target.pk, "action": "role", f"m{target.pk}-role": "manager"}
        )
        assert response.status_code == 403
        assert client.get(invitations_url(personas.team)).status_code == 403
    assert membership(personas.team, personas.viewer).role == Role.VIEWER


def test_another_teams_membership_is_not_found(client, personas):
    client.force_login(personas.manager)
    other = membership(personas.outsider_team, personas.outsider)
    response = client.post(
        members_url(personas.team), {"membership": other.pk, "action": "remove", f"m{other.pk}-role": "agent"}
    )
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_team_picker_for_people_in_several_teams(client, personas):
    MemberFactory(team=personas.outsider_team, role=Role.AGENT, username="manager")
    client.force_login(personas.manager)
    page = client.get(reverse("cases:team_settings")).content.decode()
    assert 'id="team-picker"' in page
    other = client.get(members_url(personas.outsider_team)).content.decode()
    assert "outsider" in other
    assert "Change role" not in other, "an agent there"


def test_hostile_names_are_escaped(client, personas):
    personas.viewer.first_name = HOSTILE
    personas.viewer.save()
    personas.team.name = HOSTILE
    personas.team.save()
    client.force_login(personas.manager)
    for url in (members_url(personas.team), invitations_url(personas.team)):
        html = client.get(url).content.decode()
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_manager_invites_by_email_and_revokes(client, personas, settings, django_capture_on_commit_callbacks):
    client.force_login(personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            invitations_url(personas.team), {"action": "invite", "email": "newbie@example.com", "role": "viewer"}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert re.search(r"/invitations/[\w-]+/", message.body)
    invitation = Invitation.objects.get()
    assert invitation.role == Role.VIEWER
    page = client.get(invitations_url(personas.team)).content.decode()
    assert "newbie@example.com" in page
    client.post(invitations_url(personas.team), {"action": "revoke", "invitation": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "No pending invitations." in client.get(invitations_url(personas.team)).content.decode()


def test_inviting_a_member_is_refused_next_to_the_email(client, personas):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    client.force_login(personas.manager)
    html = client.post(
        invitations_url(personas.team), {"action": "invite", "email": "agent@example.com", "role": "agent"}
    ).content.decode()
    assert 'id="id_email_error"' in html
    assert "already a member" in html
    assert 'value="agent@example.com"' in html
    assert not Invitation.objects.exists()


def test_outsider_cannot_revoke_another_teams_invitation(client, personas):
    invitation, _key = invite(personas)
    client.force_login(personas.outsider)
    assert (
        client.post(
            invitations_url(personas.outsider_team), {"action": "revoke", "invitation": invitation.pk}
        ).status_code
        == 404
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_signed_in_person_joins_with_a_button(client, personas):
    _invitation, key = invite(personas, role=Role.AGENT)
    client.force_login(personas.outsider)
    url = reverse("cases:invitation_accept", args=[key])
    page = client.get(url)
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"]
    response = client.post(url)
    assert response["Location"] == members_url(personas.team)
    assert membership(personas.team, personas.outsider).role == Role.AGENT
    assert client.get(url).status_code == 410


def test_newcomer_creates_an_account_and_joins(client, personas):
    _invitation, key = invite(personas, email="newbie@example.com", role=Role.VIEWER)
    url = reverse("cases:invitation_accept", args=[key])
    page = client.get(url).content.decode()
    assert 'value="newbie@example.com"' in page
    assert f"{reverse('login')}?next={url}" in page
    form = {"email": "evil@example.com", "username": "newbie", "password": "a long enough passphrase"}
    differ = client.post(url, {**form, "password_again": "something else"}).content.decode()
    assert 'id="id_password_again_error"' in differ
    weak = client.post(url, {**form, "password": "12345678", "password_again": "12345678"}).content.decode()
    assert 'id="id_password_error"' in weak
    assert 'value="newbie"' in weak
    taken = client.post(url, {**form, "username": "agent", "password_again": form["password"]}).content.decode()
    assert 'id="id_username_error"' in taken
    response = client.post(url, {**form, "password_again": form["password"]})
    assert response.status_code == 302
    user = Membership.objects.get(team=personas.team, role=Role.VIEWER, user__username="newbie").user
    assert user.email == "newbie@example.com"
    assert client.get(reverse("cases:team_settings")).status_code == 200, "signed in"


def test_unknown_and_expired_links_get_a_clear_page(client, personas):
    assert client.get(reverse("cases:invitation_accept", args=["nothing-here"])).status_code == 404
    invitation, key = invite(personas)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(reverse("cases:invitation_accept", args=[key]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert client.post(reverse("cases:invitation_accept", args=[key]), {"username": "x"}).status_code == 410


def test_team_pages_queries_do_not_grow_with_rows(client, personas):
    client.force_login(personas.manager)

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = (count(members_url(personas.team)), count(invitations_url(personas.team)))
    for n in range(5):
        MemberFactory(team=personas.team, role=Role.AGENT, username=f"extra{n}")
        invite(personas, email=f"extra{n}@example.com")
    assert (count(members_url(personas.team)), count(invitations_url(personas.team))) == few


def test_tokens_and_webhooks_pages_carry_the_team_tabs(client, personas):
    client.force_login(personas.agent)
    for name in ("cases:api_tokens", "cases:webhooks"):
        html = client.get(reverse(name)).content.decode()
        assert reverse("cases:team_settings") in html
        assert reverse("cases:team_invitations") in html
