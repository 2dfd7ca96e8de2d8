"""The pickup-ready notice's countdown through the real path (SPEC §4: sent
``PICKUP_NOTICE_DELAY`` = 60 minutes after the arrival): the arrival writes an outbox row due an
hour later, the relay publishes it to a real Redis broker not a second before, and a real Celery
worker process sends the notice once. No test waits an hour: the parcels arrive in the past
(time_machine at the arrival), and the relay's clock travels to each due moment; the worker runs
on the real clock, so it checks the due time itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice import outbox
from backoffice.models import OutboxTask
from backoffice.timeutil import now
from pickup.jobs import send_due_pickup_notices
from pickup.models import Pickup
from pickup.services import parcels
from shop.models import Message
from tests.pickup.conftest import arrive, shipped_pickup_order
from tests.support import real_broker, wait_until, worker_process

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOTHING = {"published": 0, "failed": 0}
ONE = {"published": 1, "failed": 0}


@pytest.fixture
def broker():
    with real_broker() as app:
        yield app


def _arrived_at(store, at, **kwargs) -> Pickup:
    with time_machine.travel(at, tick=False):
        order, shipment = shipped_pickup_order(store, **kwargs)
        arrive(shipment, store.code)
    return Pickup.objects.get(order=order)


def _notice_row(pickup: Pickup) -> OutboxTask:
    return OutboxTask.objects.get(task="pickup.send_pickup_notice", args=[pickup.pk])


def _ready_messages(pickup: Pickup) -> int:
    return Message.objects.filter(order_id=pickup.order_id, kind="pickup_ready").count()


def test_the_notice_is_published_60_minutes_after_the_arrival_and_a_worker_sends_it_once(broker, store):
    arrived = now().replace(microsecond=0) - timedelta(minutes=61)  # an hour and a minute ago
    pickup = _arrived_at(store, arrived)
    assert _notice_row(pickup).available_at == arrived + timedelta(minutes=60)

    with worker_process():
        with time_machine.travel(arrived + timedelta(minutes=59, seconds=59), tick=False):
            assert outbox.relay() == NOTHING  # the countdown is not over
        with time_machine.travel(arrived + timedelta(minutes=60), tick=False):
            assert outbox.relay() == ONE
        wait_until(lambda: Pickup.objects.get(pk=pickup.pk).noticed_at is not None, what="the worker's notice")

    pickup.refresh_from_db()
    assert pickup.noticed_at >= arrived + timedelta(minutes=60)
    assert pickup.deadline == parcels.deadline_for(pickup.noticed_at)  # counted from the notice
    assert _ready_messages(pickup) == 1
    assert pickup.order.events.filter(kind="pickup_notice_sent").count() == 1
    assert outbox.relay() == NOTHING and send_due_pickup_notices() == {"sent": 0}  # once


def test_a_notice_task_that_reaches_a_worker_early_sends_nothing_and_the_sweep_sends_it_when_due(broker, store):
    """A relay whose clock runs ahead publishes the countdown an hour early: the worker, on its own
    clock, sends nothing; the periodic sweep sends the notice when it is due, once."""
    arrived = now().replace(microsecond=0)
    early = _arrived_at(store, arrived, external_id="cust-early")
    with time_machine.travel(arrived + timedelta(minutes=60), tick=False):  # the relay's clock is an hour ahead
        assert outbox.relay() == ONE
    # Published after it on the same queue: a parcel whose notice is due (it arrived 61 minutes ago).
    due = _arrived_at(store, arrived - timedelta(minutes=61), external_id="cust-due")
    assert outbox.relay() == ONE

    with worker_process():  # one worker, one queue: the early task runs first, then the due one
        wait_until(lambda: Pickup.objects.get(pk=due.pk).noticed_at is not None, what="the due notice")

    assert Pickup.objects.get(pk=early.pk).noticed_at is None and _ready_messages(early) == 0
    with time_machine.travel(arrived + timedelta(minutes=59, seconds=59), tick=False):
        assert send_due_pickup_notices() == {"sent": 0}
    with time_machine.travel(arrived + timedelta(minutes=60), tick=False):
        assert send_due_pickup_notices() == {"sent": 1}
        assert send_due_pickup_notices() == {"sent": 0}
    assert _ready_messages(early) == 1 and _ready_messages(due) == 1
