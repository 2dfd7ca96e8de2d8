"""The worker's heartbeat in the database (issue 19 item 1).

A worker that died (kombu's ``restore_unacked`` crash when the Redis broker restarts while it holds
an unacknowledged message, an OOM kill) or that cannot reach its broker processes nothing, and the
outbox relay keeps publishing into the void. So each worker writes its own ``WorkerHeartbeat``
row every ``HEARTBEAT_SECONDS`` — from a bootstep on the worker's timer, and only while its
consumer is connected to the broker — and ``/healthz`` says ``worker: stale`` when the newest row
is older than ``STALE_AFTER``. A supervisor (``bin/supervise``, systemd's ``Restart=always``)
restarts a worker that exited.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from celery import bootsteps
from django.db import connection

from backoffice.models import WorkerHeartbeat
from backoffice.timeutil import now

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
# Several missed beats: the worker is gone or cut off from its broker.
STALE_AFTER = timedelta(seconds=30)


def beat(hostname: str, *, pid: int, started_at=None) -> None:
    """Record that the worker ``hostname`` is alive now (one UPDATE; an INSERT the first time)."""
    at = now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        beat_at=at, pid=pid, **({"started_at": started_at} if started_at else {}))
    if not updated:
        WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={
            "pid": pid, "started_at": started_at or at, "beat_at": at})


def last_beat_age(at=None) -> timedelta | None:
    """How long ago the most recent worker beat; None when no worker ever did."""
    at = at or now()
    newest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    return None if newest is None else at - newest


def status(at=None) -> tuple[str, timedelta | None]:
    age = last_beat_age(at)
    return ("ok" if age is not None and age <= STALE_AFTER else "stale"), age


class Heartbeat(bootsteps.StartStopStep):
    """Worker bootstep: beats at start, then every ``HEARTBEAT_SECONDS`` on the worker's timer.
    After the pool (its children are forked before this process opens a database connection)."""

    requires = {"celery.worker.components:Timer", "celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.started_at = None

    def start(self, worker) -> None:
        self.started_at = now()
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.tick, (worker,), priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def tick(self, worker) -> None:
        consumer = getattr(worker, "consumer", None)
        broker = getattr(consumer, "connection", None)
        if broker is None or not broker.connected:  # not consuming: let the heartbeat go stale
            return
        try:
            beat(worker.hostname, pid=os.getpid(), started_at=self.started_at)
            self.started_at = None
        except Exception as exc:  # noqa: BLE001 - the database is away: the next tick tries again
            log.warning("worker heartbeat not written: %s: %s", type(exc).__name__, exc)
            connection.close()
