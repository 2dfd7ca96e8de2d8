"""Per-store throttle of failed terminal attempts (SPEC §4: more than 20 failures in 10 minutes
at one store → 429 for that store for 10 minutes).

Counters live in the Django cache (Redis on the real stack, so every web process shares them):
one counter per store and minute, bumped with an atomic ``incr``; the window is the sum of the
last 10 minute-buckets. Whoever's increment pushes the sum past the limit stores the "throttled
until" time. Times come from ``timeutil.now()`` (not the cache's TTL) so the rule is exact under
``time_machine`` too; TTLs only clean up.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache

from backoffice.timeutil import now
from pickup import rules

_BUCKET_SECONDS = 60
_BUCKETS = int(rules.STORE_THROTTLE_WINDOW.total_seconds() // _BUCKET_SECONDS)
_TTL = int((rules.STORE_THROTTLE_WINDOW + rules.STORE_THROTTLE_DURATION).total_seconds()) + 120


def _bucket_key(store_code: str, bucket: int) -> str:
    return f"pickup:store-failures:{store_code}:{bucket}"


def _until_key(store_code: str) -> str:
    return f"pickup:store-throttled:{store_code}"


def throttled_until(store_code: str) -> datetime | None:
    until = cache.get(_until_key(store_code))
    if until is not None and until > now():
        return until
    return None


def failures_in_window(store_code: str) -> int:
    current = int(now().timestamp()) // _BUCKET_SECONDS
    keys = [_bucket_key(store_code, b) for b in range(current - _BUCKETS + 1, current + 1)]
    return sum(cache.get_many(keys).values())


def record_failure(store_code: str) -> bool:
    """Count one failed attempt; returns True when this failure throttles the store."""
    at = now()
    key = _bucket_key(store_code, int(at.timestamp()) // _BUCKET_SECONDS)
    cache.add(key, 0, _TTL)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, _TTL)
    if failures_in_window(store_code) > rules.STORE_THROTTLE_FAILURES:
        cache.set(_until_key(store_code), at + rules.STORE_THROTTLE_DURATION, _TTL)
        return True
    return False


def lift(store_code: str) -> None:
    """Staff: end a store's throttle now (e.g. after confirming a terminal fault)."""
    cache.delete(_until_key(store_code))
