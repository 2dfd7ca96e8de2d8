"""Messages on a real Celery worker and Redis: sent after commit, exactly once."""

from __future__ import annotations

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import transaction

from backoffice.celery import app as celery_app
from shop.models import Message
from shop.services import messages
from tests.factories import ListingFactory, place
from tests.support import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
            yield celery_app
    finally:
        celery_app.conf.task_always_eager = True
        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def _relay_on_the_worker() -> None:
    """What beat does every MESSAGE_RELAY_SECONDS: publish the relay job for the worker."""
    from backoffice.tasks import run_job

    run_job.delay("send_pending_messages")


def test_the_confirmation_is_emailed_by_the_relay_on_the_worker(worker):
    order = place(ListingFactory())
    message = Message.objects.get(order=order, kind="order_confirmed")
    _relay_on_the_worker()
    wait_until(lambda: Message.objects.get(pk=message.pk).emailed_at is not None, what="the e-mail")
    assert [m.subject for m in mail.outbox] == [message.subject]


def test_a_rolled_back_order_leaves_nothing_to_send(worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        place(ListingFactory())
        raise RuntimeError("payment step failed")
    sentinel = place(ListingFactory(), external_id="other")  # a later message proves the relay ran
    _relay_on_the_worker()
    wait_until(lambda: Message.objects.filter(order=sentinel, emailed_at__isnull=False).exists(), what="the sentinel")
    assert len(mail.outbox) == 1 and Message.objects.count() == 1


def test_relays_running_at_once_send_each_message_once(worker):
    for i in range(12):
        place(ListingFactory(), external_id=f"relay-{i}")
    for _ in range(4):  # beat ticks piling up behind a slow run: overlapping relays
        _relay_on_the_worker()
    wait_until(lambda: not Message.objects.filter(emailed_at__isnull=True).exists(), what="every e-mail")
    wait_until(lambda: redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery") == 0, what="the queue")
    assert sorted(m.subject for m in mail.outbox) == sorted(Message.objects.values_list("subject", flat=True))


def test_a_message_delivered_twice_is_emailed_once(worker):
    from shop.tasks import deliver_message

    with transaction.atomic():
        order = place(ListingFactory())
    message = Message.objects.get(order=order)
    for _ in range(3):  # duplicate deliveries, as after a redelivery
        deliver_message.delay(message.pk)
    wait_until(lambda: Message.objects.get(pk=message.pk).emailed_at is not None, what="the e-mail")
    assert messages.deliver(message.pk) is False
    # every queued copy has run once the queue is empty
    wait_until(lambda: redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery") == 0, what="the queue")
    assert len(mail.outbox) == 1
