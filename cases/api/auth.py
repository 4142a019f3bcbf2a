"""Bearer tokens for scripts and ticketing tools."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from cases.models import ApiToken

# last_used_at is written at most this often per token, so reads stay reads.
_TOUCH_EVERY = dt.timedelta(minutes=1)
_FAILURE_WINDOW = 60


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cm_…``; the token acts as its user with that user's roles."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _space, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw or " " in raw:
            raise exceptions.AuthenticationFailed(_("Send the token as 'Authorization: Bearer <token>'."))
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            self._count_failure(request)
            raise exceptions.AuthenticationFailed(_("The token is unknown or revoked."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def _count_failure(self, request: Request) -> None:
        """Guessing tokens is slowed down: past the limit a client gets 429 for a minute."""
        client = request.META.get("REMOTE_ADDR", "unknown")
        key = f"auth-failures:{client}"
        cache.add(key, 0, timeout=_FAILURE_WINDOW)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired, or Redis went away, between the two calls
            cache.set(key, 1, timeout=_FAILURE_WINDOW)
            failures = 1
        if failures > settings.API_AUTH_FAILURES_PER_MINUTE:
            raise exceptions.Throttled(wait=_FAILURE_WINDOW)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
