"""Sign-in attempts, limited on every way in: the app's sign-in page and the admin's.

An attempt is counted before its password is checked, so parallel guesses cannot slip
past the limit, per account and address (a guessed password) and per address alone
(many accounts tried from one place). A successful sign-in clears the account's count
and gives its attempt back to the address. Each window starts at the first attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR is the proxy's when there is one; the proxy sets X-Forwarded-For last.
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded).rsplit(",", 1)[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    address = client_address(request)
    # The sign-in form folds compatibility characters (NFKC): a full-width "agent" is "agent".
    name = unicodedata.normalize("NFKC", username.strip()).casefold()
    account = hashlib.sha256(f"{name}|{address}".encode()).hexdigest()
    return [
        (f"signin:account:{account}", settings.LOGIN_ATTEMPTS_PER_ACCOUNT),
        (f"signin:address:{address}", settings.LOGIN_ATTEMPTS_PER_ADDRESS),
    ]


def signin_locked(request: HttpRequest, username: str) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(request, username))


def _count(key: str) -> int:
    cache.add(key, 0, settings.LOGIN_WINDOW_MINUTES * 60)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, settings.LOGIN_WINDOW_MINUTES * 60)
        return 1


# Reset e-mails one address may ask for, and one mailbox may receive, per LOGIN_WINDOW_MINUTES:
# enough for a person who mistyped, too few to flood a mailbox.
RESETS_PER_ADDRESS = 10
RESETS_PER_MAILBOX = 3


def password_reset_allowed(request: HttpRequest, email: str) -> bool:
    """Count a reset request; False when its address or mailbox has had its share."""
    if _count(f"reset:address:{client_address(request)}") > RESETS_PER_ADDRESS:
        # Not counted per mailbox then: an address over its share cannot make new keys.
        return False
    mailbox = hashlib.sha256(unicodedata.normalize("NFKC", email.strip()).casefold().encode()).hexdigest()
    return _count(f"reset:mailbox:{mailbox}") <= RESETS_PER_MAILBOX


def signin_succeeded(request: HttpRequest, username: str) -> None:
    account, address = (key for key, _limit in _keys(request, username))
    cache.delete(account)
    # Nothing is counted for a session opened without a password.
    with contextlib.suppress(ValueError):
        cache.decr(address)


class RateLimitedModelBackend(ModelBackend):
    """Django's own backend, which counts each attempt first and stops it when over a limit."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if request is not None and username is not None:
            counts = [(_count(key), limit) for key, limit in _keys(request, username)]
            if any(count > limit for count, limit in counts):
                raise PermissionDenied("too many sign-in attempts")
        return super().authenticate(request, username=username, password=password, **kwargs)


def on_signed_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: object) -> None:
    if request is not None:
        signin_succeeded(request, user.get_username())
