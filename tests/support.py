"""Helpers for tests that use real threads, processes and workers (bounded waits, no sleep-as-sync)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from django.conf import settings
from django.db import connection

WAIT = 60  # seconds: the bound of every wait for another thread or process


def wait_until(predicate, *, timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def run_concurrently(n: int, func):
    """Run ``func(i)`` for i in range(n) in n threads released together; each closes its connection."""
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait(timeout=30)
            return func(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def relay_through_backoff(*, max_rounds: int = 50) -> int:
    """Publish every outbox row, travelling in time to each one's due moment (a refund retry's
    backoff, a pickup notice's delay) as the relay would meet them. Returns how many it published."""
    from datetime import timedelta

    import time_machine

    from backoffice import outbox
    from backoffice.models import OutboxTask

    published = outbox.drain()
    travellers = []
    try:
        for _ in range(max_rounds):
            due = (OutboxTask.objects.filter(published_at__isnull=True).order_by("available_at")
                   .values_list("available_at", flat=True).first())
            if due is None:
                break
            traveller = time_machine.travel(due + timedelta(seconds=1), tick=False)
            traveller.start()
            travellers.append(traveller)
            published += outbox.drain()
    finally:
        for traveller in reversed(travellers):
            traveller.stop()
    return published


def terminate_this_connection() -> None:
    """PostgreSQL drops this thread's database session, as a restart or a failover does: killed
    with ``pg_terminate_backend`` from another session (FAULTS.md)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
