"""The production cache: Redis, and this process's memory while Redis cannot be reached."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class ResilientRedisCache(RedisCache):
    """Only short-lived counters and flags live in this cache (rate limits, a queued-drain
    flag, an access token). While Redis is unreachable, counting per process is better than
    failing every request: the counts are then kept in this process's memory, and dropped
    when Redis answers again. After a failure Redis is left alone for a few seconds, so a
    Redis that hangs costs one timeout, not one per call."""

    RETRY_AFTER_SECONDS = 10.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # One store per process, shared by its threads (the cache object is per thread);
        # large enough that nobody can evict the sign-in counters by making new keys.
        self._fallback = LocMemCache(
            "redis-fallback", {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 100_000}}
        )
        self._down_until = 0.0

    def _degraded(self, error: Exception | None) -> LocMemCache:
        now = time.monotonic()
        if error is not None:
            if now >= self._down_until:
                logger.warning("Redis unreachable (%s); counting in this process for now", error)
            self._down_until = now + self.RETRY_AFTER_SECONDS
        return self._fallback

    def _redis_is_down(self) -> bool:
        return time.monotonic() < self._down_until


def _resilient(name: str) -> Callable[..., Any]:
    redis_method = getattr(RedisCache, name)

    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        if self._redis_is_down():
            return getattr(self._degraded(None), name)(*args, **kwargs)
        try:
            return redis_method(self, *args, **kwargs)
        except _UNREACHABLE as error:
            return getattr(self._degraded(error), name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many"):
    setattr(ResilientRedisCache, _name, _resilient(_name))
