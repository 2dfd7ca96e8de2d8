"""Per-store throttle of failed terminal attempts (SPEC §4: more than 20 failures in 10 minutes
at one store → 429 for that store for 10 minutes).

Failure counters live in the Django cache (Redis on the real stack, so every web process shares
them): one counter per store and minute, bumped with an atomic ``incr``; the window is the sum
of the last 10 minute-buckets (so "10 minutes" is measured to the minute). Whoever's increment
pushes the sum past the limit sets ``Store.throttled_until``: the terminal reads it with the
parcel's row (no extra round trip on the hot path) and staff see it. Times come from
``timeutil.now()`` so the rule is exact under ``time_machine`` too; cache TTLs only clean up.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache

from backoffice.timeutil import now
from pickup import rules
from pickup.models import Store

_BUCKET_SECONDS = 60
_BUCKETS = int(rules.STORE_THROTTLE_WINDOW.total_seconds() // _BUCKET_SECONDS)
_TTL = int(rules.STORE_THROTTLE_WINDOW.total_seconds()) + 2 * _BUCKET_SECONDS


def _bucket_key(store_id: int, bucket: int) -> str:
    return f"pickup:store-failures:{store_id}:{bucket}"


def throttled_until(store: Store) -> datetime | None:
    until = store.throttled_until
    return until if until is not None and until > now() else None


def _window_keys(store_id: int) -> list[str]:
    current = int(now().timestamp()) // _BUCKET_SECONDS
    return [_bucket_key(store_id, b) for b in range(current - _BUCKETS + 1, current + 1)]


def failures_in_window(store_id: int) -> int:
    return sum(cache.get_many(_window_keys(store_id)).values())


def record_failure(store: Store) -> bool:
    """Count one failed attempt; returns True when this failure throttles the store."""
    at = now()
    key = _bucket_key(store.pk, int(at.timestamp()) // _BUCKET_SECONDS)
    cache.add(key, 0, _TTL)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, _TTL)
    if failures_in_window(store.pk) > rules.STORE_THROTTLE_FAILURES:
        Store.objects.filter(pk=store.pk).update(throttled_until=at + rules.STORE_THROTTLE_DURATION)
        return True
    return False


def lift(store: Store) -> None:
    """Staff: end a store's throttle now (e.g. after confirming a terminal fault). The failure
    counters of the window go too: otherwise the next wrong key would throttle it again."""
    Store.objects.filter(pk=store.pk).update(throttled_until=None)
    cache.delete_many(_window_keys(store.pk))
