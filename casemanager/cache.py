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
    flag, an access token). While Redis restarts, counting per process is better than
    failing every request; the counts rejoin Redis when it answers again."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._fallback = LocMemCache(f"redis-fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._warned_at = 0.0

    def _degraded(self, error: Exception) -> LocMemCache:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            logger.warning("Redis unreachable (%s); counting in this process until it is back", error)
        return self._fallback


def _resilient(name: str) -> Callable[..., Any]:
    redis_method = getattr(RedisCache, name)

    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return redis_method(self, *args, **kwargs)
        except _UNREACHABLE as error:
            return getattr(self._degraded(error), name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many"):
    setattr(ResilientRedisCache, _name, _resilient(_name))
