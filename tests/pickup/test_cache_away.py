"""The pickup terminal with the cache away (issue 19 item 3): Redis refuses connections, yet every
attempt is answered (no 500), the parcel still locks at the 5th consecutive failure and the store
is still throttled after more than 20 failures in 10 minutes — counted from the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.test import override_settings

from pickup.models import PickupAttempt, Store
from pickup.services import terminal
from tests.faults.conftest import free_port
from tests.pickup.conftest import ticket_body
from tests.pickup.test_reliability import outcome
from tests.support import run_concurrently

TICKETS = "/api/v1/pickup/tickets"
UNKNOWN = [f"{n:011d}{n % 7}" for n in range(20_000_000_000, 20_000_000_030)]


@pytest.fixture
def cache_away():
    """The cache is a Redis where nothing listens: every call is refused at once."""
    away = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    with override_settings(CACHES=away):
        yield


@pytest.mark.django_db
def test_with_the_cache_away_the_21st_failure_throttles_the_store_and_the_22nd_is_429(cache_away, lawson, parcel):
    with time_machine.travel(parcel.arrived_at + timedelta(minutes=1), tick=False) as clock:
        statuses = []
        for i in range(22):
            clock.shift(timedelta(seconds=20))  # 22 × 20 s: all within one 10-minute window
            statuses.append(lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[i])).status_code)
    assert statuses == [404] * 21 + [429]
    assert Store.objects.get(pk=parcel.store_id).throttled_until is not None
    assert PickupAttempt.objects.filter(outcome="unknown_number").count() == 21


@pytest.mark.django_db
def test_with_the_cache_away_failures_older_than_ten_minutes_do_not_count(cache_away, lawson, parcel):
    with time_machine.travel(parcel.arrived_at + timedelta(minutes=1), tick=False) as clock:
        for i in range(20):
            assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[i])).status_code == 404
        clock.shift(timedelta(minutes=10, seconds=1))
        assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[20])).status_code == 404
        assert lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[21])).status_code == 404
    assert Store.objects.get(pk=parcel.store_id).throttled_until is None


@pytest.mark.django_db
def test_with_the_cache_away_five_wrong_auth_numbers_lock_the_parcel_and_a_ticket_is_still_printed(
        cache_away, lawson, parcel, make_parcel, store):
    other = make_parcel(store, external_id="cust-2")
    assert lawson.json("post", TICKETS, ticket_body(other)).status_code == 201
    wrong = "0000000" if parcel.auth_number != "0000000" else "1111111"
    statuses = [lawson.json("post", TICKETS, ticket_body(parcel, auth_number=wrong)).status_code for _ in range(6)]
    assert statuses == [404] * 5 + [423]
    parcel.refresh_from_db()
    assert parcel.locked and parcel.consecutive_failures == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_the_cache_away_a_concurrent_burst_gets_exactly_the_limit_through(cache_away, parcel):
    """30 wrong keys at once: the store's row lock serialises the database count, so exactly 21
    failures are answered and 9 are 429 — the same as with the cache."""
    with time_machine.travel(parcel.arrived_at + timedelta(seconds=20), tick=False):
        results = run_concurrently(30, lambda i: outcome(lambda: terminal.issue_ticket(
            chain="lawson", store_code=parcel.store.code, inquiry_number=UNKNOWN[i], auth_number="1234567")))
    assert results.count("pickup_not_found") == 21
    assert results.count("store_throttled") == 9


def test_the_cache_really_is_away_in_these_tests(cache_away):
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("x")
