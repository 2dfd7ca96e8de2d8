"""Per-store throttle of failed terminal attempts (SPEC §4: more than 20 failures in 10 minutes
at one store → 429 for that store for 10 minutes).

Failure counters live in the Django cache (Redis on the real stack, so every web process shares
them): one counter per store and minute; the window is the sum of the last 10 minute-buckets
(so "10 minutes" is measured to the minute).

The count comes before the check (issue 12): an attempt first takes a slot with an atomic
``incr`` (``reserve``) and only then is decided; an attempt that did not fail gives its slot
back (``release``). Concurrent attempts therefore each see a distinct count, and a burst gets
exactly the limit through: failures up to the 21st are answered, the one that makes it "more
than 20" sets ``Store.throttled_until``, every later one is 429 without being looked at. (Checking
a shared sum after the fact let a concurrent burst of 27 through.) The terminal reads
``throttled_until`` with the parcel's row (no extra round trip on the hot path) and staff see it. Times come from
``timeutil.now()`` so the rule is exact under ``time_machine`` too; cache TTLs only clean up.

**The cache away** (Redis down, issue 19): the throttle is never dropped. ``reserve`` then counts
from the database — the store's failed ``PickupAttempt`` rows of the last 10 minutes, plus this
attempt — under the store's row lock (taken after the parcel's, the terminal's lock order), so
concurrent attempts still each see a distinct count until the attempt row commits. The parcel's
5-failure lock is a column of its row and never depended on the cache. A staff ``lift`` during the
outage clears ``throttled_until``; the database count keeps the window's failures until they age out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from backoffice import outages
from backoffice.timeutil import now
from pickup import rules
from pickup.models import PickupAttempt, Store

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Slot:
    """One attempt counted as a failure in advance: its bucket and the window's count with it."""

    key: str  # "" when counted from the database (the cache was away)
    count: int

    @property
    def over_limit(self) -> bool:
        """The store had already had more than the limit: refuse without looking (429)."""
        return self.count > rules.STORE_THROTTLE_FAILURES + 1

    @property
    def throttles(self) -> bool:
        """If this attempt fails, it is the one that makes it "more than" the limit."""
        return self.count > rules.STORE_THROTTLE_FAILURES


def _cache_is_away(exc: Exception) -> bool:
    if outages.kind(exc) != "cache":
        return False
    log.warning("pickup throttle: cache unreachable, counting from the database: %s", exc)
    return True


def reserve(store: Store) -> Slot:
    """Count one attempt at ``store`` as a failure before it is decided (atomic ``incr``); from
    the database when the cache is away. The caller holds a transaction (the terminal's)."""
    try:
        return _reserve_in_cache(store)
    except Exception as exc:
        if not _cache_is_away(exc):
            raise
        return _reserve_in_database(store)


def _reserve_in_cache(store: Store) -> Slot:
    """Only the current minute's bucket is written, so its ``incr`` result plus the earlier buckets
    of the window is a count no concurrent attempt shares."""
    current = int(now().timestamp()) // _BUCKET_SECONDS
    key = _bucket_key(store.pk, current)
    cache.add(key, 0, _TTL)
    try:
        mine = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 0, _TTL)
        mine = cache.incr(key)
    earlier = [_bucket_key(store.pk, b) for b in range(current - _BUCKETS + 1, current)]
    return Slot(key, mine + sum(cache.get_many(earlier).values()))


def _reserve_in_database(store: Store) -> Slot:
    """The window's failed attempts at the store (committed rows) plus this one. The store's row
    lock serialises the store's attempts until each one's attempt row is written and committed."""
    Store.objects.select_for_update().filter(pk=store.pk).values_list("pk", flat=True).first()
    failures = PickupAttempt.objects.filter(store_id=store.pk, outcome__in=PickupAttempt.FAILURES,
                                            at__gt=now() - rules.STORE_THROTTLE_WINDOW).count()
    return Slot("", failures + 1)


def release(slot: Slot) -> None:
    """The attempt did not fail (a ticket, an expired parcel, or refused as throttled): give the slot back."""
    if not slot.key:  # counted from the database: the attempt row's outcome says it did not fail
        return
    try:
        cache.decr(slot.key)
    except ValueError:  # expired or lifted meanwhile: nothing to give back
        pass
    except Exception as exc:  # the cache went away since: its counters are lost with it
        if not _cache_is_away(exc):
            raise


def throttle(store: Store) -> datetime:
    """Refuse the store's terminal for ``STORE_THROTTLE_DURATION`` from now; returns until when."""
    until = now() + rules.STORE_THROTTLE_DURATION
    Store.objects.filter(pk=store.pk).update(throttled_until=until)
    store.throttled_until = until
    return until


def lift(store: Store) -> None:
    """Staff: end a store's throttle now (e.g. after confirming a terminal fault). The failure
    counters of the window go too: otherwise the next wrong key would throttle it again."""
    Store.objects.filter(pk=store.pk).update(throttled_until=None)
    try:
        cache.delete_many(_window_keys(store.pk))
    except Exception as exc:
        if not _cache_is_away(exc):
            raise
