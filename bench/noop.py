"""The trivial task bench/watch.py measures the worker and broker with: one Redis INCR."""

from __future__ import annotations

from functools import cache

import redis
from celery import shared_task
from django.conf import settings


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(str(settings.REDIS_URL))


@shared_task(name="bench.noop")
def noop(key: str) -> None:
    _redis().incr(key)
