"""The transactional outbox: the one place that publishes to the broker.

A service that wants work done outside its transaction (process a refund, send a pickup notice)
calls ``enqueue`` — one INSERT in the caller's transaction, nothing else. The relay
(``relay``; the periodic job ``publish_outbox``, every ``OUTBOX_RELAY_SECONDS``, and
``run_periodic_jobs``) publishes the due rows:

1. **claim** a batch with a conditional UPDATE (``published_at`` null, no live claim, due) that
   stamps a per-run token — two relays never claim the same row;
2. **publish** each row with no transaction open (the broker may be slow or down);
3. **mark** the published rows; a row whose publish failed keeps its error and is tried again after
   a backoff; after ``RELAY_MAX_FAILURES_IN_A_ROW`` failures the run stops (the broker is down, not
   the rows) and releases its remaining claims.

A row is published at least once: only a relay that dies between the publish and the mark publishes
it again (after ``CLAIM``). Every task published here is idempotent (a refund is processed once
under its row lock; a notice is sent once by its dedupe key), so at-least-once is exactly-once in
effect. Customer e-mails have their own outbox table (``shop.Message``) with the same claim rule.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db.models import F, Q

from backoffice import bulksql
from backoffice.celery import app
from backoffice.models import OutboxTask
from backoffice.timeutil import now

log = logging.getLogger(__name__)

# A claim not marked published after this long belongs to a relay that died: the row is due again.
CLAIM = timedelta(minutes=2)
RELAY_BATCH = 500
RELAY_MAX_FAILURES_IN_A_ROW = 3
# Backoff after the n-th failed publish: 5 s, 10 s, 20 s … at most 5 minutes.
RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=5)
# Seconds the relay waits for the broker's connection before giving the run up.
BROKER_CONNECT_TIMEOUT = 3


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def enqueue(task: str, *args, at: datetime | None = None) -> OutboxTask:
    """Publish ``task(*args)`` once the caller's transaction commits (not before ``at``)."""
    created = now()
    return OutboxTask.objects.create(task=task, args=list(args), created_at=created, available_at=at or created)


def enqueue_many(task: str, args_list: Iterable[Sequence], *, at: datetime | None = None) -> int:
    """``enqueue`` for a batch (an expiry job's refunds): one INSERT."""
    created = now()
    args = [list(a) for a in args_list]
    if not args:
        return 0
    return bulksql.insert(OutboxTask, {"task": task, "args": args, "created_at": created,
                                       "available_at": at or created})


def _due(at: datetime) -> Q:
    return (Q(published_at__isnull=True, available_at__lte=at)
            & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=at)))


def pending_count(at: datetime | None = None) -> int:
    return OutboxTask.objects.filter(_due(at or now())).count()


def oldest_due_age(at: datetime | None = None) -> timedelta | None:
    """How long the oldest due row has waited (``/healthz`` reports it)."""
    at = at or now()
    oldest = (OutboxTask.objects.filter(_due(at)).order_by("available_at", "id")
              .values_list("available_at", flat=True).first())
    return None if oldest is None else at - oldest


def _claim(limit: int) -> tuple[str, list[OutboxTask]]:
    at = now()
    token = secrets.token_hex(8)
    ids = list(OutboxTask.objects.filter(_due(at)).order_by("available_at", "id").values_list("pk", flat=True)[:limit])
    if not ids:
        return token, []
    # Conditional: a row another relay claimed since the read above is not ours.
    OutboxTask.objects.filter(_due(at), pk__in=ids).update(
        claim=token, claimed_until=at + CLAIM, attempts=F("attempts") + 1)
    return token, list(OutboxTask.objects.filter(claim=token, published_at__isnull=True).order_by("available_at", "id"))


def _task(name: str):
    task = app.tasks.get(name)
    if task is None:  # the apps' tasks modules are imported on first use (autodiscovery)
        app.loader.import_default_modules()
        task = app.tasks[name]
    return task


def relay(*, limit: int = RELAY_BATCH) -> dict:
    """Publish up to ``limit`` due rows (oldest first). Returns counts for the job log."""
    token, rows = _claim(limit)
    if not rows:
        return {"published": 0, "failed": 0}
    if app.conf.task_always_eager:  # tests and one-process runs: the task runs here, no broker
        return _publish_all(rows, token, producer=None)
    try:
        with app.connection_for_write() as connection:
            # One quick connection check for the batch: a broker that is down fails the run at
            # once (instead of each publish waiting out kombu's connection retries).
            connection.ensure_connection(max_retries=1, timeout=BROKER_CONNECT_TIMEOUT)
            with app.amqp.Producer(connection) as producer:
                return _publish_all(rows, token, producer=producer)
    except Exception as exc:  # the broker is unreachable: every claimed row is tried again later
        _release(rows, token, exc)
        log.warning("outbox: broker unreachable, %s rows wait: %s", len(rows), exc)
        return {"published": 0, "failed": len(rows)}


def _release(rows: list[OutboxTask], token: str, exc: Exception) -> None:
    """Give the claimed rows back with the error and each one's backoff: one UPDATE per distinct
    attempt count (a broker outage releases a whole batch every run; not a statement per row)."""
    by_attempts: dict[int, list[int]] = {}
    for row in rows:
        by_attempts.setdefault(row.attempts, []).append(row.pk)
    at, error = now(), f"{type(exc).__name__}: {exc}"[:300]
    for attempts, ids in by_attempts.items():
        OutboxTask.objects.filter(pk__in=ids, claim=token).update(
            claim="", claimed_until=at + retry_delay(attempts), last_error=error)


def _publish_all(rows: list[OutboxTask], token: str, *, producer) -> dict:
    published: list[int] = []
    failed = failures_in_a_row = 0
    for index, row in enumerate(rows):
        try:
            # retry=False: a publish that fails is not retried here; the row is tried again later.
            _task(row.task).apply_async(args=row.args, retry=False, producer=producer)
        except Exception as exc:  # the broker (or its connection) failed: keep the row for later
            failed += 1
            failures_in_a_row += 1
            _release([row], token, exc)
            log.warning("outbox %s (%s): publish failed, retried later: %s", row.pk, row.task, exc)
            if failures_in_a_row >= RELAY_MAX_FAILURES_IN_A_ROW:
                rest = [r.pk for r in rows[index + 1:]]
                OutboxTask.objects.filter(pk__in=rest, claim=token).update(
                    claim="", claimed_until=None, attempts=F("attempts") - 1)
                break
        else:
            failures_in_a_row = 0
            published.append(row.pk)
    if published:
        OutboxTask.objects.filter(pk__in=published, claim=token).update(
            published_at=now(), claim="", claimed_until=None, last_error="")
    return {"published": len(published), "failed": failed}


def drain(*, limit: int = RELAY_BATCH, max_runs: int = 1000) -> int:
    """Relay until nothing is due (tests, ``run_periodic_jobs``). Returns how many were published."""
    total = 0
    for _ in range(max_runs):
        result = relay(limit=limit)
        total += result["published"]
        if result["published"] == 0:
            break
    return total
