"""Refund retries through the real path (SPEC §3 "retries transient failures with backoff"):
the outbox relay publishes to a real Redis broker and a real Celery worker process calls the
gateway. A transient failure makes the worker write the retry as an outbox row due after the
backoff (1, 2, 4, 8 minutes); the relay publishes it not a second before that and the worker
retries. The test travels the relay's clock to each due moment (time_machine) instead of waiting
the minutes out; the worker runs on the real clock (the service does not look at it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice import outbox
from backoffice.models import OutboxTask
from payments.models import Refund, SandboxGatewayRefund
from payments.services import refunds
from shop.models import Message
from tests.factories import ListingFactory, place
from tests.support import real_broker, wait_until, worker_process

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Refund.Status
NOTHING = {"published": 0, "failed": 0}
ONE = {"published": 1, "failed": 0}


@pytest.fixture
def broker():
    with real_broker() as app:
        yield app


def _waiting_retry(refund: Refund) -> OutboxTask | None:
    return OutboxTask.objects.filter(task="payments.process_refund", args=[refund.pk],
                                     published_at__isnull=True).first()


def _next_retry(refund: Refund, attempts: int) -> tuple[OutboxTask, timedelta]:
    """Wait until the worker has written the retry after attempt ``attempts``; return the outbox
    row and its backoff (due time − the failed attempt's time)."""
    wait_until(lambda: _waiting_retry(refund) is not None, what=f"the retry after attempt {attempts}")
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (S.PROCESSING, attempts)
    row = _waiting_retry(refund)
    return row, row.available_at - refund.updated_at


def _publish_when_due(row: OutboxTask) -> None:
    """The relay at the due moment's last second before (nothing) and at it (the retry)."""
    with time_machine.travel(row.available_at - timedelta(seconds=1), tick=False):
        assert outbox.relay() == NOTHING
    with time_machine.travel(row.available_at, tick=False):
        assert outbox.relay() == ONE


def _gateway_calls(refund: Refund) -> int:
    return SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}").calls


def test_a_flaky_card_refund_is_retried_by_a_worker_after_1_then_2_minutes_and_succeeds_once(broker):
    order = place(ListingFactory(price=4000), card_token="tok_refund_flaky")  # fails twice, then refunds
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="test")

    with worker_process():
        assert outbox.relay() == ONE  # the first attempt
        backoffs = []
        for attempts in (1, 2):
            row, backoff = _next_retry(refund, attempts)
            backoffs.append(backoff)
            _publish_when_due(row)
        wait_until(lambda: Refund.objects.get(pk=refund.pk).status == S.SUCCEEDED, what="the third attempt")

    assert backoffs == [timedelta(minutes=1), timedelta(minutes=2)]
    refund.refresh_from_db()
    assert refund.attempts == 3 and _gateway_calls(refund) == 3
    assert SandboxGatewayRefund.objects.get(idempotency_key=f"refund:{refund.pk}").status == "succeeded"
    assert list(order.events.filter(kind__startswith="refund_").order_by("id").values_list("kind", flat=True)) == [
        "refund_requested", "refund_processing", "refund_retry_scheduled", "refund_retry_scheduled",
        "refund_succeeded"]
    assert Message.objects.filter(dedupe_key=f"refund_completed:{refund.pk}").count() == 1
    assert _waiting_retry(refund) is None and outbox.relay() == NOTHING


def test_a_refund_that_keeps_failing_is_retried_after_1_2_4_8_minutes_then_lands_in_the_failed_queue(broker):
    order = place(ListingFactory(price=4000), card_token="tok_refund_timeout")  # every call fails transiently
    refund = refunds.request(order=order, amount=order.total, cause="cancel", reason="support", actor="test")

    with worker_process():
        assert outbox.relay() == ONE
        backoffs = []
        for attempts in (1, 2, 3, 4):
            row, backoff = _next_retry(refund, attempts)
            backoffs.append(backoff)
            _publish_when_due(row)
        wait_until(lambda: Refund.objects.get(pk=refund.pk).status == S.FAILED, what="the fifth attempt")

    assert backoffs == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    refund.refresh_from_db()
    assert refund.attempts == 5 and _gateway_calls(refund) == 5  # the 5th attempt was the last
    assert _waiting_retry(refund) is None  # no 6th
    assert list(refunds.failed_queue()) == [refund]
    assert order.events.filter(kind="refund_failed").count() == 1
    assert not Message.objects.filter(kind="refund_completed").exists()
