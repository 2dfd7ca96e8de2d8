"""Helpers for tests that use real threads, processes and workers (bounded waits, no sleep-as-sync)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

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
