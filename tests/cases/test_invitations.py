import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import Invitation, Membership, Role
from cases.selectors.invitations import invitation_key_hash
from cases.services.invitations import invitation_accept, invitation_create, invitation_join, invitation_revoke
from evidence.models import AuditEvent
from evidence.services import Actor
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def codes(error):
    return {name: [e.code for e in errors] for name, errors in error.error_dict.items()}


def invite(personas, email="new.person@example.com", role=Role.AGENT):
    return invitation_create(team=personas.team, email=email, role=role, actor=Actor.of_user(personas.manager))


def test_invitation_stores_only_the_hash_and_mails_the_link(personas, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://cm.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        invitation, key = invite(personas, email="New.Person@EXAMPLE.com")
    assert invitation.key_hash == invitation_key_hash(key)
    assert key not in str(Invitation.objects.values().get())
    assert invitation.email == "New.Person@example.com"
    assert invitation.invited_by == personas.manager
    expected_expiry = timezone.now() + dt.timedelta(days=settings.INVITATION_DAYS)
    assert abs((invitation.expires_at - expected_expiry).total_seconds()) < 60
    (message,) = mail.outbox
    assert message.to == ["New.Person@example.com"]
    assert f"https://cm.example.com/invitations/{key}/" in message.body
    assert personas.team.name in message.subject
    event = AuditEvent.objects.get(action="invitation.created")
    assert event.after["email"] == "New.Person@example.com"
    assert key not in str(event.after)


def test_no_mail_when_the_transaction_rolls_back(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(personas)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_only_managers_invite(personas):
    for user in (personas.agent, personas.viewer, personas.outsider):
        with pytest.raises(PermissionDenied):
            invitation_create(team=personas.team, email="x@example.com", role="agent", actor=Actor.of_user(user))
    assert not Invitation.objects.exists()


def test_members_and_bad_input_are_refused_on_their_fields(personas):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    with pytest.raises(ValidationError) as error:
        invite(personas, email="AGENT@example.com")
    assert codes(error.value) == {"email": ["already_member"]}
    with pytest.raises(ValidationError) as error:
        invite(personas, email="not an address")
    assert "email" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        invite(personas, role="owner")
    assert codes(error.value) == {"role": ["invalid_choice"]}


def test_inviting_again_withdraws_the_older_link(personas):
    first, first_key = invite(personas)
    _second, second_key = invite(personas, email="NEW.person@example.com")
    first.refresh_from_db()
    assert first.revoked_at is not None
    with pytest.raises(ValidationError) as error:
        invitation_accept(key=first_key, user=UserFactory(username="newbie"))
    assert codes(error.value) == {"key": ["revoked"]}
    membership = invitation_accept(key=second_key, user=UserFactory(username="newbie"))
    assert membership.role == Role.AGENT
    assert AuditEvent.objects.filter(action="invitation.revoked", subject_id=str(first.pk)).exists()


def test_accepting_adds_the_member_once_and_is_audited_as_them(personas):
    invitation, key = invite(personas, role=Role.VIEWER)
    newbie = UserFactory(username="newbie")
    membership = invitation_accept(key=key, user=newbie)
    assert (membership.team, membership.user, membership.role) == (personas.team, newbie, Role.VIEWER)
    invitation.refresh_from_db()
    assert invitation.accepted_by == newbie
    event = AuditEvent.objects.get(action="invitation.accepted")
    assert (event.actor_name, event.chain) == ("newbie", f"team:{personas.team.pk}")
    with pytest.raises(ValidationError) as error:
        invitation_accept(key=key, user=UserFactory(username="second"))
    assert codes(error.value) == {"key": ["accepted"]}
    assert Membership.objects.filter(team=personas.team).count() == 4


def test_expired_unknown_and_revoked_links_do_not_work(personas):
    invitation, key = invite(personas)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    user = UserFactory(username="late")
    with pytest.raises(ValidationError) as error:
        invitation_accept(key=key, user=user)
    assert codes(error.value) == {"key": ["expired"]}
    with pytest.raises(ValidationError) as error:
        invitation_accept(key="made-up", user=user)
    assert codes(error.value) == {"key": ["unknown"]}
    other, other_key = invite(personas, email="other@example.com")
    invitation_revoke(invitation=other, actor=Actor.of_user(personas.manager))
    with pytest.raises(ValidationError):
        invitation_accept(key=other_key, user=user)
    assert not Membership.objects.filter(user__username="late").exists()


def test_a_member_cannot_accept_again(personas):
    _invitation, key = invite(personas, role=Role.MANAGER)
    with pytest.raises(ValidationError) as error:
        invitation_accept(key=key, user=personas.viewer)
    assert codes(error.value) == {"key": ["already_member"]}
    assert Membership.objects.get(team=personas.team, user=personas.viewer).role == Role.VIEWER


def test_revoking_is_for_managers_of_the_invitations_team(personas):
    invitation, _key = invite(personas)
    for user in (personas.outsider, personas.agent):
        with pytest.raises(PermissionDenied):
            invitation_revoke(invitation=invitation, actor=Actor.of_user(user))
    assert Invitation.objects.visible_to(personas.outsider).count() == 0
    invitation_revoke(invitation=invitation, actor=Actor.of_user(personas.manager))
    assert AuditEvent.objects.filter(action="invitation.revoked", actor_name="manager").exists()


def test_an_accepted_invitation_cannot_be_revoked(personas):
    invitation, key = invite(personas)
    invitation_accept(key=key, user=UserFactory(username="newbie"))
    with pytest.raises(ValidationError) as error:
        invitation_revoke(invitation=invitation, actor=Actor.of_user(personas.manager))
    assert codes(error.value) == {"invitation": ["already_accepted"]}


def test_joining_creates_the_account_with_the_invited_address_or_nothing(personas):
    _invitation, key = invite(personas, email="joiner@example.com")
    with pytest.raises(ValidationError) as error:
        invitation_join(key=key, username="joiner", password="123")
    assert "password" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        invitation_join(key=key, username="agent", password="a long enough passphrase")
    assert "username" in error.value.error_dict
    membership = invitation_join(key=key, username="joiner", password="a long enough passphrase")
    assert membership.user.email == "joiner@example.com"
    assert membership.user.check_password("a long enough passphrase")
    with pytest.raises(ValidationError):
        invitation_join(key=key, username="again", password="a long enough passphrase")
    assert not type(membership.user).objects.filter(username="again").exists()


def test_an_invitation_lapses_when_its_inviter_is_no_longer_a_manager(personas):
    from cases.services.teams import membership_set

    _invitation, key = invitation_create(
        team=personas.team, email="new@example.com", role="manager", actor=Actor.of_user(personas.manager)
    )
    second = MemberFactory(team=personas.team, role=Role.MANAGER, username="second")
    membership_set(team=personas.team, user=personas.manager, role=Role.VIEWER, actor=Actor.of_user(second))
    newcomer: Any = UserFactory(username="newcomer")
    with pytest.raises(ValidationError) as refused:
        invitation_accept(key=key, user=newcomer)
    assert refused.value.error_dict["key"][0].code == "lapsed"
    assert not Membership.objects.filter(user=newcomer).exists()
