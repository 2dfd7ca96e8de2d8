"""The task outbox (backoffice/outbox.py): written in the caller's transaction, published by the
relay once due, claimed by one relay at a time, a failed publish kept with its error and retried
after a backoff without holding up the rows behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from backoffice import outbox
from backoffice.models import OutboxTask
from backoffice.timeutil import now

pytestmark = pytest.mark.django_db

HARMLESS = "pickup.send_pickup_notice"  # with an unknown parcel id it does nothing


def test_a_rolled_back_transaction_leaves_nothing_to_publish():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(HARMLESS, 999_001)
        raise RuntimeError("the request failed")
    assert not OutboxTask.objects.exists()


def test_the_relay_publishes_each_due_row_once_and_leaves_later_ones_waiting():
    due = outbox.enqueue(HARMLESS, 999_001)
    later = outbox.enqueue(HARMLESS, 999_002, at=now() + timedelta(hours=1))
    assert outbox.relay() == {"published": 1, "failed": 0}
    assert outbox.relay() == {"published": 0, "failed": 0}
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.published_at is not None and due.attempts == 1
    assert later.published_at is None
    with time_machine.travel(now() + timedelta(hours=1, seconds=1)):
        assert outbox.relay() == {"published": 1, "failed": 0}


def test_a_row_claimed_by_another_relay_is_not_published_again_until_its_claim_lapses():
    row = outbox.enqueue(HARMLESS, 999_001)
    OutboxTask.objects.filter(pk=row.pk).update(claim="other-run", claimed_until=now() + outbox.CLAIM)
    assert outbox.relay()["published"] == 0  # the other relay is publishing it
    with time_machine.travel(now() + outbox.CLAIM + timedelta(seconds=1)):  # that relay died
        assert outbox.relay()["published"] == 1
    assert OutboxTask.objects.get(pk=row.pk).attempts == 1


def test_a_failed_publish_keeps_the_row_with_its_error_and_does_not_hold_up_the_others():
    broken = outbox.enqueue("no.such.task", 1)
    fine = outbox.enqueue(HARMLESS, 999_001)
    assert outbox.relay() == {"published": 1, "failed": 1}
    broken.refresh_from_db()
    assert broken.published_at is None and "no.such.task" in broken.last_error
    assert OutboxTask.objects.get(pk=fine.pk).published_at is not None
    assert outbox.relay()["failed"] == 0  # backing off: not due again yet
    with time_machine.travel(now() + outbox.retry_delay(1) + timedelta(seconds=1)):
        assert outbox.relay()["failed"] == 1
    assert OutboxTask.objects.get(pk=broken.pk).attempts == 2


def test_the_backoff_doubles_up_to_five_minutes():
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [5, 10, 20, 300, 300]


def test_many_rows_are_written_in_one_statement(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert outbox.enqueue_many(HARMLESS, ([i] for i in range(100))) == 100


def test_the_relay_job_runs_after_every_other_job():
    from backoffice import jobs

    assert list(jobs.load_all())[-1] == "publish_outbox"
