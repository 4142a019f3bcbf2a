"""Reads of invitations: finding one by the secret in its link, and what state it is in."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from cases.models import Invitation, Team

PENDING = "pending"
EXPIRED = "expired"
REVOKED = "revoked"
ACCEPTED = "accepted"


def invitation_key_hash(key: str) -> str:
    """The stored form of a link's secret; the secret itself is only ever in the e-mail."""
    return hashlib.sha256(key.encode()).hexdigest()


def invitation_by_key(key: str) -> Invitation | None:
    return Invitation.objects.select_related("team", "invited_by").filter(key_hash=invitation_key_hash(key)).first()


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return ACCEPTED
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.expires_at <= timezone.now():
        return EXPIRED
    return PENDING


def invitations_pending(*, user: Any, team: Team) -> QuerySet[Invitation]:
    return (
        Invitation.objects.visible_to(user)
        .filter(team=team, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("invited_by")
    )
