"""Races on real PostgreSQL (issue 5 "Reliability"): threads with their own connections."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from backoffice.errors import DomainError
from pickup.models import PickupAttempt, PickupTicket, Store
from pickup.services import expiry, terminal
from shop.models import Order
from tests.support import run_concurrently, wait_for_lock_waiters

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome(call) -> str:
    try:
        call()
        return "ok"
    except DomainError as exc:
        return exc.code


def test_the_same_ticket_redeemed_twice_at_once_hands_the_parcel_over_once(parcel):
    issued = terminal.issue_ticket(chain="lawson", store_code=parcel.store.code,
                                   inquiry_number=parcel.inquiry_number, auth_number=parcel.auth_number)
    results = run_concurrently(2, lambda i: outcome(lambda: terminal.redeem(
        chain="lawson", ticket_number=issued.ticket.number, store_code=parcel.store.code, actor=f"register:{i}")))
    assert sorted(results) == ["ok", "ticket_already_used"]
    order = Order.objects.get(pk=parcel.order_id)
    assert order.status == "delivered"
    assert order.events.filter(to_status="delivered").count() == 1


def test_twenty_parallel_wrong_guesses_lock_the_parcel_after_exactly_five(parcel):
    wrong = "0000000" if parcel.auth_number != "0000000" else "1111111"
    results = run_concurrently(20, lambda i: outcome(lambda: terminal.issue_ticket(
        chain="lawson", store_code=parcel.store.code, inquiry_number=parcel.inquiry_number, auth_number=wrong)))
    assert results.count("pickup_not_found") == 5
    assert results.count("pickup_locked") == 15
    parcel.refresh_from_db()
    assert parcel.locked and parcel.consecutive_failures == 5
    assert parcel.attempts.filter(outcome="wrong_auth").count() == 5


def _in_background(func):
    """Run ``func`` in a thread with its own connection; returns (thread, results list)."""
    results: list = []

    def run():
        try:
            results.append(outcome(func))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def _issue(parcel):
    return lambda: terminal.issue_ticket(chain="lawson", store_code=parcel.store.code,
                                         inquiry_number=parcel.inquiry_number, auth_number=parcel.auth_number)


def test_a_ticket_being_printed_when_the_expiry_runs_wins_and_the_order_is_not_cancelled(parcel, monkeypatch):
    """The terminal holds the parcel (ticket written, not yet committed) when the deadline passes
    and the expiry job runs: the job skips the parcel, the ticket stays valid, no cancellation."""
    inside, release = threading.Event(), threading.Event()
    real_record = terminal._record

    def slow_record(*args):  # runs in the terminal's transaction, after the ticket is written
        attempt = real_record(*args)
        inside.set()
        release.wait(10)
        return attempt

    monkeypatch.setattr(terminal, "_record", slow_record)
    with time_machine.travel(parcel.deadline - timedelta(seconds=1), tick=False) as clock:
        thread, results = _in_background(_issue(parcel))
        assert inside.wait(10)
        clock.move_to(parcel.deadline + timedelta(seconds=1))
        assert expiry.expire_due()["expired"] == 0
        release.set()
        thread.join(10)
        assert results == ["ok"]
        assert expiry.expire_due()["expired"] == 0  # committed now: a live ticket holds the expiry off
    order = Order.objects.get(pk=parcel.order_id)
    assert order.status == "ready_for_pickup"
    assert PickupTicket.objects.filter(pickup=parcel, voided_at__isnull=True).count() == 1


def test_a_terminal_asking_while_the_expiry_holds_the_parcel_gets_no_ticket(parcel, monkeypatch):
    """The expiry job holds the parcel (cancelling) when a terminal whose clock is a second behind
    asks for a ticket: the terminal waits for the row, then sees the parcel expired (410)."""
    inside, release = threading.Event(), threading.Event()
    real_count = expiry._count_no_shows

    def slow_count(*args):  # runs in the expiry's transaction, after the parcel is cancelled
        real_count(*args)
        inside.set()
        release.wait(10)

    monkeypatch.setattr(expiry, "_count_no_shows", slow_count)
    with time_machine.travel(parcel.deadline + timedelta(seconds=1), tick=False) as clock:
        job, job_results = _in_background(lambda: expiry.expire_due())
        assert inside.wait(10)
        clock.move_to(parcel.deadline - timedelta(seconds=1))
        terminal_thread, results = _in_background(_issue(parcel))
        wait_for_lock_waiters()  # the terminal is now waiting for the parcel's row lock
        assert results == []
        release.set()
        job.join(10)
        terminal_thread.join(10)
    assert results == ["pickup_expired"]
    order = Order.objects.get(pk=parcel.order_id)
    assert (order.status, order.cancellation_reason) == ("cancelled", "pickup_expired")
    assert not PickupTicket.objects.filter(pickup=parcel).exists()


@pytest.mark.redis
def test_a_concurrent_burst_of_failures_gets_exactly_the_limit_through_the_store_throttle(parcel):
    """Issue 12: the throttle counts before it checks, so 30 wrong keys at once at one store get
    exactly 21 answers (more than 20 throttles) and 9 × 429 — not 27 failures through."""
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        pytest.skip("the store throttle's counters are shared through Redis (CACHE_URL=redis://...)")
    unknown = [f"{n:011d}{n % 7}" for n in range(20_000_000_000, 20_000_000_030)]
    with time_machine.travel(parcel.arrived_at + timedelta(seconds=20), tick=False):  # one minute bucket
        results = run_concurrently(30, lambda i: outcome(lambda: terminal.issue_ticket(
            chain="lawson", store_code=parcel.store.code, inquiry_number=unknown[i], auth_number="1234567")))
        assert results.count("pickup_not_found") == 21
        assert results.count("store_throttled") == 9
        assert Store.objects.get(pk=parcel.store_id).throttled_until is not None
        assert PickupAttempt.objects.filter(outcome="unknown_number").count() == 21
