"""A token bucket shared by every worker, so Amazon's rate limits hold however many run.

Amazon gives each operation a rate and a burst per selling partner and application
(getItemOffers 0.5/s burst 1, getItemOffersBatch 0.1/s burst 1). The bucket lives in
Redis and is updated by one Lua script on Redis's own clock, so workers on different
machines agree. Without Redis (the embedded mode) it lives in the process.
"""

from __future__ import annotations

import threading
import time
from functools import cache

import redis
from django.conf import settings

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if penalty > 0 then
  tokens = math.min(tokens, 1 - penalty * rate)
  wait = penalty
elseif tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst + penalty * rate) / rate) + 60)
return tostring(wait)
"""


class RateLimited(Exception):
    """No token within the time the caller can wait; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(str(settings.REDIS_URL))


_local: dict[str, tuple[float, float]] = {}
_local_lock = threading.Lock()


def _take_local(key: str, rate: float, burst: int, penalty: float) -> float:
    with _local_lock:
        now = time.monotonic()
        tokens, ts = _local.get(key, (float(burst), now))
        tokens = min(burst, tokens + max(0.0, now - ts) * rate)
        wait = 0.0
        if penalty > 0:
            tokens, wait = min(tokens, 1 - penalty * rate), penalty
        elif tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        _local[key] = (tokens, now)
        return wait


class TokenBucket:
    def __init__(self, key: str, *, rate: float, burst: int) -> None:
        self.key = f"ratelimit:{key}"
        self.rate = rate
        self.burst = burst

    def _take(self, penalty: float = 0.0) -> float:
        if settings.REDIS_URL:
            script = _redis().register_script(_TAKE)
            return float(script(keys=[self.key], args=[self.rate, self.burst, penalty]))
        return _take_local(self.key, self.rate, self.burst, penalty)

    def acquire(self, *, max_wait: float) -> None:
        """Take a token, sleeping for it up to ``max_wait`` seconds; else raise ``RateLimited``.

        A wait means the token was not taken: the caller that sleeps asks again, so a
        token is never spent by a caller that gave up.
        """
        deadline = time.monotonic() + max_wait
        while True:
            wait = self._take()
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimited(wait)
            time.sleep(wait)

    def penalize(self, seconds: float) -> None:
        """Amazon answered 429: nobody gets a token for ``seconds``."""
        self._take(penalty=max(seconds, 1.0 / self.rate))
