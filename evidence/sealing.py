"""Secrets stored in the database (SP-API client secrets and refresh tokens), sealed.

Fernet (AES-CBC with HMAC) under ``CREDENTIALS_KEY``; several comma-separated keys
allow rotation: the first seals, any opens. A database dump alone does not reveal them.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SealBroken(Exception):
    """The value was sealed under a key this installation no longer has, or was altered."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def seal(text: str) -> str:
    return _fernet(tuple(settings.CREDENTIALS_KEYS)).encrypt(text.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet(tuple(settings.CREDENTIALS_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SealBroken("The stored secret cannot be opened with CREDENTIALS_KEY; enter it again.") from None
