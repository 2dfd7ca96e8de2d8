"""Workers that survive their broker and their own death (issue 19 items 1, 4, 5), on both brokers.

A real ``celery worker`` runs under ``bin/supervise`` (what ``bin/run`` does; systemd's
``Restart=always`` in a deployment) on the test database. The sandbox gateway's hold file keeps a
refund in the middle of its gateway call, so the worker holds an unacknowledged (late-acked)
message when the fault strikes:

- the broker is SIGKILLed and started again — on Redis, kombu's ``restore_unacked`` then kills the
  worker for good (``AttributeError: 'NoneType' object has no attribute 'hostname'``); the
  supervisor starts it again;
- the worker itself is SIGKILLed (its pool child with it) — RabbitMQ requeues the message at
  once, Redis after its visibility timeout; the restarted worker processes it.

Each time: the refund is made exactly once (one gateway call, one message, one event), work
published afterwards is processed without anyone restarting anything, and the worker's heartbeat
row is fresh again (``/healthz`` says ``worker: ok``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.test import Client

from backoffice import outbox
from backoffice.models import WorkerHeartbeat
from backoffice.timeutil import now
from payments.models import Payment, Refund, SandboxGatewayRefund
from payments.services import refunds
from shop.models import Message, Order
from tests.factories import ListingFactory, place
from tests.faults.conftest import celery_on, gateway_pids, terminate_backends
from tests.support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Refund.Status


def _requested_refund(price: int, external_id: str) -> tuple[Order, Refund]:
    order = place(ListingFactory(price=price), external_id=external_id)
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="test")
    return order, refund


def _succeeded(refund: Refund) -> bool:
    return Refund.objects.get(pk=refund.pk).status == S.SUCCEEDED


def _assert_refunded_exactly_once(order: Order, refund: Refund) -> None:
    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    gateway = SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}")
    assert (gateway.status, gateway.calls) == ("succeeded", 1)
    assert Message.objects.filter(kind="refund_completed", order=order).count() == 1
    assert order.events.filter(kind="refund_succeeded").count() == 1
    assert Payment.objects.get(order=order).refunded_amount == order.total


def _heartbeat_after(moment) -> bool:
    return WorkerHeartbeat.objects.filter(beat_at__gt=moment).exists()


def _healthz_worker() -> str:
    return Client().get("/healthz").json()["worker"]


def test_a_supervised_worker_survives_a_broker_restart_while_it_holds_an_unacked_message(
        throwaway_broker, worker_process, worker_env):
    hold = Path(worker_env["SANDBOX_GATEWAY_HOLD_FILE"])
    throwaway_broker.start()
    hold.touch()
    order, refund = _requested_refund(6000, "c-held")
    with celery_on(throwaway_broker.url):
        assert outbox.relay() == {"published": 1, "failed": 0}
        worker = worker_process(throwaway_broker.url, supervised=True)
        wait_until(lambda: gateway_pids(worker_env), what="the worker to be in the middle of the refund")
        wait_until(lambda: _healthz_worker() == "ok", what="the worker's heartbeat")

        throwaway_broker.kill()  # the worker holds the refund's message, unacknowledged
        throwaway_broker.start()
        restarted_at = now()
        hold.unlink()
        wait_until(lambda: _succeeded(refund), what="the held refund")

        # Work published after the restart is processed: the worker is consuming again by itself.
        later_order, later = _requested_refund(3000, "c-later")
        wait_until(lambda: outbox.relay()["published"] == 1 or _succeeded(later), timeout=60,
                   what="the relay to publish to the restarted broker")
        wait_until(lambda: _succeeded(later), what="a refund published after the restart")
        wait_until(lambda: _heartbeat_after(restarted_at), what="a heartbeat after the restart")
        assert _healthz_worker() == "ok" and worker.celery_pid() is not None

    _assert_refunded_exactly_once(order, refund)
    _assert_refunded_exactly_once(later_order, later)


def test_a_worker_killed_mid_refund_is_restarted_and_the_refund_redelivered_exactly_once(
        throwaway_broker, worker_process, worker_env):
    hold = Path(worker_env["SANDBOX_GATEWAY_HOLD_FILE"])
    throwaway_broker.start()
    hold.touch()
    order, refund = _requested_refund(6000, "c-killed")
    with celery_on(throwaway_broker.url):
        assert outbox.relay() == {"published": 1, "failed": 0}
        worker = worker_process(throwaway_broker.url, supervised=True)
        wait_until(lambda: gateway_pids(worker_env), what="the worker to be in the middle of the refund")
        first = worker.celery_pid()
        doomed = [first, *worker.children()]
        for pid in doomed:  # the whole worker: main process and pool children, mid-refund
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed_at = time.monotonic()
        assert Refund.objects.get(pk=refund.pk).status == S.REQUESTED  # its transaction died with it
        hold.unlink()
        wait_until(lambda: _succeeded(refund), what="the redelivered refund")
        redelivered_after = time.monotonic() - killed_at
        assert worker.celery_pid() not in (None, first)  # the supervisor started a new worker
        assert "worker exited with status" in worker.log_text()

    _assert_refunded_exactly_once(order, refund)
    assert Refund.objects.get(pk=refund.pk).attempts == 1  # the killed attempt rolled back
    # RabbitMQ requeues at once; Redis after the (lowered) visibility timeout: either way seconds.
    assert redelivered_after < 30


def test_a_refund_whose_database_connection_is_terminated_mid_task_is_retried_not_lost(
        throwaway_broker, worker_process, worker_env):
    """PostgreSQL drops the worker's connection while a refund is in the middle of its gateway
    call: the task's next statement fails, and Celery retries it after a short backoff
    (``outages.TASK_RETRY``) instead of acknowledging a failure — the refund is made once."""
    hold = Path(worker_env["SANDBOX_GATEWAY_HOLD_FILE"])
    throwaway_broker.start()
    hold.touch()
    order, refund = _requested_refund(6000, "c-db")
    with celery_on(throwaway_broker.url):
        assert outbox.relay() == {"published": 1, "failed": 0}
        worker = worker_process(throwaway_broker.url)
        wait_until(lambda: gateway_pids(worker_env), what="the worker to be in the middle of the refund")
        assert terminate_backends() >= 1  # the worker's session, holding the refund's row lock
        hold.unlink()
        wait_until(lambda: _succeeded(refund), what="the retried refund")
        assert "Retry in" in worker.log_text()
    _assert_refunded_exactly_once(order, refund)
