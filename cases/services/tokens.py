from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import ApiToken
from evidence.errors import field_error
from evidence.services import Actor, audit_record

TOKEN_PREFIX = "cm_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


def _hash(raw: str) -> str:
    from cases.api.auth import token_hash

    return token_hash(raw)


@transaction.atomic
def api_token_create(*, user: Any, name: str, actor: Actor) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with the secret, which is never shown again."""
    if actor.is_user and actor.id != user.pk and not getattr(actor.user, "is_superuser", False):
        raise PermissionDenied(_("Users create their own tokens."))
    name = name.strip()
    # NUL too: PostgreSQL cannot store it, and the request would fail rather than be refused.
    if not name or len(name) > 100 or "\x00" in name:
        raise field_error("name", _("Give the token a name of at most 100 characters."), "invalid")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_hash(raw), prefix=raw[:10])
    audit_record(actor=actor, action="api_token.created", subject=token, chain=f"user:{user.pk}", after={"name": name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    if actor.is_user and actor.id != token.user_id and not getattr(actor.user, "is_superuser", False):
        raise PermissionDenied(_("Users revoke their own tokens."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoked",
            subject=token,
            chain=f"user:{token.user_id}",
            after={"name": token.name},
        )
    return token
