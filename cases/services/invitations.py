"""Invitations by e-mail: a secret link that lets its holder join a team with a role.

Only the SHA-256 of the secret is stored; the link goes out by e-mail once the
invitation is committed, and is never shown again.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Invitation, Membership, Role, Team
from cases.selectors.invitations import ACCEPTED, EXPIRED, PENDING, REVOKED, invitation_key_hash, invitation_state
from cases.services._common import authorize, full_clean, record
from cases.services.teams import _membership_write
from evidence.errors import field_error
from evidence.services import Actor

logger = logging.getLogger(__name__)

UNUSABLE = {
    EXPIRED: gettext_lazy("This invitation has expired; ask a manager of the team for a new one."),
    REVOKED: gettext_lazy("This invitation was withdrawn; ask a manager of the team for a new one."),
    ACCEPTED: gettext_lazy("This invitation was already used."),
}


@transaction.atomic
def invitation_create(*, team: Team, email: str, role: Role | str, actor: Actor) -> tuple[Invitation, str]:
    """Invite ``email`` to ``team`` with ``role``; returns the invitation and the secret of its link.

    A pending invitation of the same address is withdrawn: only the newest link works.
    """
    authorize(actor, team.pk, Role.MANAGER)
    if not actor.is_user:
        raise PermissionDenied(_("Invitations are sent by a manager of the team."))
    if role not in Role.values:
        raise field_error(
            "role", _("%(role)r is not a role: use viewer, agent or manager.") % {"role": role}, "invalid_choice"
        )
    email = BaseUserManager.normalize_email(email.strip())
    # The team row is the lock: two invitations of one address cannot both stay pending.
    Team.objects.select_for_update().get(pk=team.pk)
    if email and Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise field_error("email", _("%(email)s is already a member of the team.") % {"email": email}, "already_member")
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation(
        team=team,
        email=email,
        role=role,
        key_hash=invitation_key_hash(key),
        invited_by=actor.user,
        expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS),
    )
    full_clean(invitation)
    older = list(
        Invitation.objects.filter(team=team, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
    )
    invitation.save()
    record(
        actor=actor,
        action="invitation.created",
        subject=invitation,
        team_id=team.pk,
        after={"email": email, "role": role, "expires_at": invitation.expires_at},
    )
    for old in older:
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="invitation.revoked",
            subject=old,
            team_id=team.pk,
            after={"email": old.email, "replaced_by": invitation.pk},
        )
    # A failed send is logged, not raised: the invitation stands and can be sent again.
    transaction.on_commit(partial(_send, invitation, key), robust=True)
    return invitation, key


def _send(invitation: Invitation, key: str) -> None:
    context = {
        "invitation": invitation,
        "team": invitation.team.name,
        "inviter": invitation.invited_by.get_username(),
        "role": invitation.get_role_display(),
        "days": settings.INVITATION_DAYS,
        "link": f"{settings.SITE_URL.rstrip('/')}{reverse('cases:invitation_accept', args=[key])}",
    }
    subject = " ".join(render_to_string("cases/team/invitation_email_subject.txt", context).split())
    body = render_to_string("cases/team/invitation_email.txt", context)
    send_mail(subject, body, None, [invitation.email], fail_silently=False)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    authorize(actor, invitation.team_id, Role.MANAGER)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise field_error(
            "invitation", _("This invitation was already accepted; remove the member instead."), "already_accepted"
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="invitation.revoked",
            subject=invitation,
            team_id=invitation.team_id,
            after={"email": invitation.email},
        )
    return invitation


def _usable(key: str) -> Invitation:
    """The invitation of ``key``, locked, if it can still be accepted; a ``key`` error saying why not."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("team", "invited_by")
        .filter(key_hash=invitation_key_hash(key))
        .first()
    )
    if invitation is None:
        raise field_error("key", _("This invitation link is not valid."), "unknown")
    state = invitation_state(invitation)
    if state != PENDING:
        raise field_error("key", str(UNUSABLE[state]), state)
    # The link carries its inviter's authority: it lapses when they are no longer a manager,
    # so a manager on the way out cannot keep a way back in.
    try:
        authorize(Actor.of_user(invitation.invited_by), invitation.team_id, Role.MANAGER)
    except PermissionDenied:
        raise field_error(
            "key", _("The person who sent this invitation can no longer invite; ask a manager of the team."), "lapsed"
        ) from None
    return invitation


@transaction.atomic
def invitation_accept(*, key: str, user: Any) -> Membership:
    """``user`` joins the team with the invited role; the invitation is used up."""
    invitation = _usable(key)
    if not user.is_active:
        raise PermissionDenied(_("This account is deactivated."))
    if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
        raise field_error("key", _("You are already a member of this team."), "already_member")
    actor = Actor.of_user(user)
    membership = _membership_write(team=invitation.team, user=user, role=Role(invitation.role), actor=actor)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        actor=actor,
        action="invitation.accepted",
        subject=invitation,
        team_id=invitation.team_id,
        after={"email": invitation.email, "user": user.get_username(), "role": invitation.role},
    )
    return membership


@transaction.atomic
def invitation_join(*, key: str, username: str, password: str) -> Membership:
    """Create an account for the invited address and accept the invitation with it, or neither."""
    invitation = _usable(key)
    user = get_user_model()(username=username.strip(), email=invitation.email)
    full_clean(user, exclude=["password"])
    try:
        password_validation.validate_password(password, user)
    except ValidationError as weak:
        raise ValidationError({"password": weak.error_list}) from None
    user.set_password(password)
    user.save()
    return invitation_accept(key=key, user=user)
