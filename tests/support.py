"""Helpers for tests that use real threads, processes and workers (bounded waits, no sleep-as-sync)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

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


def lock_waiters() -> int:
    """How many other connections to this test database wait for a lock right now
    (pg_stat_activity ``wait_event_type = 'Lock'``: a row lock, ``FOR UPDATE``, a unique-index
    insert behind an uncommitted one — every wait that ``pg_locks`` shows as not granted)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_for_lock_waiters(n: int = 1, *, timeout: float = WAIT) -> None:
    """Until ``n`` other connections wait for a lock (PostgreSQL only). A race test that holds a
    lock in one thread calls this before releasing it, so the second thread is known to be
    blocked on that lock — not merely started, nor already past the point of the race."""
    wait_until(lambda: lock_waiters() >= n, timeout=timeout,
               what=f"{n} connection{'s' if n > 1 else ''} to wait for a lock")


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


# --- a real broker and real worker processes (tests marked ``redis``) ------------------------------

@contextmanager
def real_broker() -> Iterator:
    """This engineer's Redis broker db, emptied, and tasks published to it (``outbox.relay``)
    instead of run eagerly, for the block. Yields the project's Celery app."""
    import redis
    from django.conf import settings

    from backoffice.celery import app

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        app.conf.task_always_eager = True
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def worker_environment(**extra: str) -> dict:
    """Environment of a subprocess Celery worker: the test database this process uses, this
    engineer's broker, tasks run for real, no persistent connections (so the test can flush)."""
    from django.conf import settings

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CONN_MAX_AGE": "0",
        **extra,
    }


def start_worker_process(env: dict, *, app: str = "backoffice", pool: str = "solo") -> subprocess.Popen:
    """``celery worker`` as a child process in its own session (stopped by ``stop_worker_process``)."""
    from django.conf import settings

    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", app, "worker", f"--pool={pool}", "--concurrency=1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=settings.BASE_DIR, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop_worker_process(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the worker's process group (``sig``, then SIGKILL after 30 s) and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def worker_process(env: dict | None = None, **kwargs) -> Iterator[subprocess.Popen]:
    """A real worker process for the block (``start_worker_process``), stopped at its end."""
    process = start_worker_process(env or worker_environment(), **kwargs)
    try:
        yield process
    finally:
        stop_worker_process(process)


def terminate_this_connection() -> None:
    """PostgreSQL drops this thread's database session, as a restart or a failover does: killed
    with ``pg_terminate_backend`` from another session (FAULTS.md)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def copies(row, n: int, **vary):
    """``n`` unsaved copies of a model instance (primary key left to the database); each keyword
    is a function of the copy's index giving that field's value (``number=lambda i: ...``)."""
    fields = [f for f in type(row)._meta.concrete_fields if not f.primary_key]
    return [type(row)(**{f.attname: getattr(row, f.attname) for f in fields}
                      | {name: value(i) for name, value in vary.items()}) for i in range(n)]


@contextmanager
def plans_of(prefix: str):
    """How PostgreSQL reads each table for the statements starting with ``prefix``: each is
    EXPLAIN ANALYZEd inside a savepoint that is rolled back, then run for real. Yields a list with,
    per statement, the set of (table, index name or "Seq Scan") it scanned."""
    plans: list[set[tuple[str, str]]] = []

    def explain(execute, sql, params, many, context):
        if sql.lstrip().startswith(prefix):
            cursor = context["cursor"]
            cursor.execute("SAVEPOINT plan")
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plans.append(_scans(cursor.fetchone()[0][0]["Plan"]))
            cursor.execute("ROLLBACK TO SAVEPOINT plan")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        yield plans


def _scans(node: dict) -> set[tuple[str, str]]:
    found = set()
    if "Relation Name" in node and "Scan" in node["Node Type"]:
        found.add((node["Relation Name"], node.get("Index Name", node["Node Type"])))
    for child in node.get("Plans", []):
        found |= _scans(child)
    return found
