"""The cache every web process shares (Redis in production): small counters and slots, never the source of truth.

Callers go through ``call`` so that an unreachable cache raises one exception, ``Unavailable``, quickly: after a
failure the cache is not tried again by this process for ``RETRY_SECONDS``, so a Redis outage costs each request
nothing instead of a connect timeout per operation. What to do then is the caller's decision (rate limits are
not applied; ``Prefer: wait`` is not honoured).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
T = TypeVar("T")

_lock = threading.Lock()
_down_until = 0.0


class Unavailable(Exception):
    """The shared cache did not answer (now, or a moment ago)."""


def call(operation: Callable[..., T], *args, **kwargs) -> T:
    """``operation(*args, **kwargs)`` (a method of ``cache``); raises ``Unavailable`` when the cache is down."""
    global _down_until
    if time.monotonic() < _down_until:
        raise Unavailable("the shared cache failed a moment ago")
    try:
        return operation(*args, **kwargs)
    except (RedisError, OSError) as exc:
        with _lock:
            _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("shared cache unavailable (%s: %s); retrying in %.0fs", type(exc).__name__, exc, RETRY_SECONDS)
        raise Unavailable(str(exc)) from exc


def count_hit(key: str, ttl: int) -> int:
    """Add one to the counter ``key`` (created with ``ttl`` seconds to live); returns the new count. Atomic in Redis."""
    call(cache.add, key, 0, ttl)
    try:
        return call(cache.incr, key)
    except ValueError:  # expired between add and incr
        call(cache.set, key, 1, ttl)
        return 1


def read_count(key: str) -> int:
    return call(cache.get, key, 0)
