"""Refunds under concurrency, duplicate delivery and a killed worker (SPEC §3 "every refund runs
exactly once"): real PostgreSQL row locks with threads, real Celery workers on Redis."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_prerun
from django.db import connection, transaction

from backoffice import outbox
from backoffice.errors import Conflict
from backoffice.models import OutboxTask
from payments.models import GiftCardEntry, Payment, Refund, SandboxGatewayRefund
from payments.services import refunds
from payments.tasks import process_refund
from shop.models import Message, Order, OrderStatus
from tests.factories import CustomerFactory, ListingFactory, place
from tests.support import (
    real_broker,
    run_concurrently,
    start_worker_process,
    stop_worker_process,
    wait_until,
    worker_environment,
)

S = Refund.Status
def delivered_card_order(price: int) -> Order:
    order = place(ListingFactory(price=price))
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    order.refresh_from_db()
    return order


# --- concurrent partial refunds (PostgreSQL, threads) -------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["return", "request"])
def test_concurrent_partial_refunds_that_exceed_the_captured_amount_are_refused(how):
    order = delivered_card_order(price=10000)
    captured = Payment.objects.get(order=order).captured_amount
    part = 3000
    fits = captured // part

    def refund(i):
        try:
            if how == "return":
                refunds.refund_return(order=order, amount=part, actor=f"staff:{i}")
            else:  # no order lock at all: only the conditional update on the payment guards it
                refunds.request(order=order, amount=part, cause=f"goodwill:{i}", reason="support", actor=f"staff:{i}")
            return "ok"
        except Conflict as exc:
            return exc.code

    results = run_concurrently(8, refund)

    assert results.count("ok") == fits
    assert results.count("refund_exceeds_captured") == 8 - fits
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == fits * part <= payment.captured_amount
    assert Refund.objects.filter(order=order).count() == fits


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["return", "request"])
def test_concurrent_clicks_for_the_same_cause_create_one_refund(how):
    order = delivered_card_order(price=10000)

    def click(i):
        if how == "return":
            return refunds.refund_return(order=order, amount=2000, actor=f"staff:{i}", reference="RMA-1").pk
        return refunds.request(order=order, amount=2000, cause="goodwill", reason="support", actor=f"staff:{i}").pk

    ids = run_concurrently(8, click)

    assert len(set(ids)) == 1
    assert Refund.objects.filter(order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_amount == 2000


# --- real workers on Redis ------------------------------------------------------------------------

@pytest.fixture
def broker():
    """A clean broker (this engineer's Redis db) and tasks sent to it instead of run eagerly."""
    with real_broker() as app:
        yield app


def refund_held_by_the_test(refund: Refund, deliveries: int, started: list) -> None:
    """Hold the refund's row lock while ``deliveries`` copies of its task start, so they all
    run at the same moment once it is released."""
    with transaction.atomic():
        Refund.objects.select_for_update().get(pk=refund.pk)
        for _ in range(deliveries):  # the test publishes the duplicates itself, as a broker might
            process_refund.delay(refund.pk)
        wait_until(lambda: len(started) >= deliveries, what="both deliveries to start")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_refund_task_delivered_twice_concurrently_refunds_once(broker):
    card_order = place(ListingFactory(price=4000), external_id="card-buyer")
    customer = CustomerFactory(external_id="gift-buyer")
    from payments.services import giftcards

    giftcards.credit(customer=customer, amount=5000, kind=GiftCardEntry.Kind.PURCHASE, reference="card-1")
    gift_order = place(ListingFactory(price=3000), method="gift_card", external_id="gift-buyer")
    with transaction.atomic():  # requested, but the first delivery is ours to make
        card_refund = refunds.request(order=card_order, amount=card_order.total, cause="cancel", reason="support",
                                      actor="test")
        gift_refund = refunds.request(order=gift_order, amount=gift_order.total, cause="cancel", reason="support",
                                      actor="test")
    OutboxTask.objects.all().delete()  # the relay will not publish these: the test makes its own deliveries

    started: list = []
    finished: list = []

    def on_prerun(sender=None, **kwargs):
        if sender.name == "payments.process_refund":
            started.append(kwargs["task_id"])

    def on_postrun(sender=None, **kwargs):
        connection.close()  # the worker thread's connection, so the test database can be flushed
        if sender.name == "payments.process_refund":
            finished.append(kwargs["task_id"])

    task_prerun.connect(on_prerun, weak=False)
    task_postrun.connect(on_postrun, weak=False)
    try:
        with start_worker(broker, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
            for refund in (card_refund, gift_refund):
                started.clear()
                finished.clear()
                refund_held_by_the_test(refund, 2, started)
                wait_until(lambda: len(finished) == 2, what="both deliveries to finish")
    finally:
        task_prerun.disconnect(on_prerun)
        task_postrun.disconnect(on_postrun)

    assert SandboxGatewayRefund.objects.filter(idempotency_key=f"refund:{card_refund.pk}").count() == 1
    assert SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{card_refund.pk}").calls == 1
    assert GiftCardEntry.objects.filter(kind="refund", reference=f"refund:{gift_refund.pk}").count() == 1
    assert giftcards.account_for(customer).balance == 5000
    for refund in (card_refund, gift_refund):
        assert Message.objects.filter(dedupe_key=f"refund_completed:{refund.pk}").count() == 1
        assert refund.order.events.filter(kind="refund_succeeded").count() == 1
        assert Refund.objects.get(pk=refund.pk).attempts == 1


def _worker(env: dict, pool: str = "solo") -> subprocess.Popen:
    return start_worker_process(env, app="tests.payments.refund_worker", pool=pool)


_stop = stop_worker_process


@pytest.fixture
def worker_env(tmp_path: Path) -> dict:
    """Environment of a subprocess worker: the test database, this Redis db, a short visibility
    timeout and the sandbox gateway's hold file (it pauses refunds while the file exists)."""
    return worker_environment(CELERY_VISIBILITY_TIMEOUT_SECONDS="2",
                              SANDBOX_GATEWAY_HOLD_FILE=str(tmp_path / "hold-gateway"))


def _pids_in_gateway(hold: Path) -> list[int]:
    entered = Path(f"{hold}.entered")
    return [int(line) for line in entered.read_text().split()] if entered.exists() else []


def _assert_refunded_exactly_once(order: Order, refund: Refund) -> None:
    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    assert refund.attempts == 1  # the killed attempt rolled back with its transaction
    assert SandboxGatewayRefund.objects.filter(status="succeeded").count() == 1
    assert SandboxGatewayRefund.objects.get().calls == 1
    assert Message.objects.filter(kind="refund_completed", order=order).count() == 1
    assert order.events.filter(kind="refund_succeeded").count() == 1
    assert Payment.objects.get(order=order).refunded_amount == order.total


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_refund_is_redelivered_and_refunds_once(broker, worker_env):
    """The whole worker node dies (SIGKILL): the late-acked message stays unacknowledged in Redis
    and is redelivered to the next worker after the visibility timeout."""
    hold = Path(worker_env["SANDBOX_GATEWAY_HOLD_FILE"])
    order = place(ListingFactory(price=6000))
    hold.touch()
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="test")
    assert outbox.relay() == {"published": 1, "failed": 0}  # to the broker: nothing is published at commit

    first = _worker(worker_env)
    try:
        wait_until(lambda: _pids_in_gateway(hold), what="the worker to reach the gateway")
        _stop(first, signal.SIGKILL)  # mid-refund: the row lock is held, nothing committed, no ack
    finally:
        _stop(first, signal.SIGKILL)
    assert Refund.objects.get(pk=refund.pk).status == S.REQUESTED

    hold.unlink()
    second = _worker(worker_env)
    try:
        wait_until(lambda: Message.objects.filter(kind="refund_completed").exists(), what="the redelivered refund")
    finally:
        _stop(second)
    _assert_refunded_exactly_once(order, refund)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_refund_is_requeued_by_reject_on_worker_lost(broker, worker_env):
    """Only the prefork child running the task dies: with ``reject_on_worker_lost`` the worker
    requeues the message at once and a new child runs it."""
    hold = Path(worker_env["SANDBOX_GATEWAY_HOLD_FILE"])
    order = place(ListingFactory(price=6000))
    hold.touch()
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="test")
    assert outbox.relay() == {"published": 1, "failed": 0}

    worker = _worker(worker_env, pool="prefork")
    try:
        wait_until(lambda: len(_pids_in_gateway(hold)) == 1, what="the pool process to reach the gateway")
        os.kill(_pids_in_gateway(hold)[0], signal.SIGKILL)
        wait_until(lambda: len(_pids_in_gateway(hold)) == 2, what="the requeued task to reach the gateway again")
        assert Refund.objects.get(pk=refund.pk).status == S.REQUESTED
        hold.unlink()
        wait_until(lambda: Message.objects.filter(kind="refund_completed").exists(), what="the requeued refund")
    finally:
        _stop(worker)
    _assert_refunded_exactly_once(order, refund)
