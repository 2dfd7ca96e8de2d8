"""PostgreSQL drops the app's connections under load (issue 19 items 3, 5).

gunicorn serves the test database with pooled connections while storefront clients place, read
and cancel card orders; the test terminates every backend of the database again and again. Each
request either succeeds or answers 503 with ``Retry-After`` (the client retries with the same
``Idempotency-Key``) — never a 500 — and once the faults stop, requests succeed again without
restarting anything (``CONN_HEALTH_CHECKS`` replaces a dropped pooled connection). Afterwards the
money reconciles: what our books captured minus refunded is what the gateway saw, no cancelled
order misses its refund, no payment is refunded twice, and no order was charged twice (the
Idempotency-Key claim written in placement's transaction 1).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine

from backoffice import outbox
from backoffice.models import Partner
from backoffice.timeutil import now
from bench.traffic import Traffic, reconcile
from shop.models import Order
from shop.services import orders
from tests.factories import ListingFactory
from tests.faults.conftest import terminate_backends
from tests.support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_postgres_dropping_every_connection_under_load_answers_no_500_and_loses_no_money(web_server):
    partner = Partner(kind=Partner.Kind.STOREFRONT, name="storefront")
    key = partner.issue_key()
    partner.save()
    skus = [ListingFactory(price=1000 + 100 * i, stock=10**6).sku for i in range(8)]
    server = web_server()
    traffic = Traffic(server.port, key, skus)
    stop = threading.Event()
    threads = traffic.run(clients=6, stop=stop)
    try:
        wait_until(lambda: len(traffic.placed) >= 10, what="traffic to flow")
        terminated = 0
        for _ in range(6):  # a fault, then more traffic, six times
            before = len(traffic.placed)
            terminated += terminate_backends()
            wait_until(lambda before=before: len(traffic.placed) >= before + 5, what="traffic after the fault")
        recovered_from = sum(traffic.counts.values())
        wait_until(lambda: sum(traffic.counts.values()) >= recovered_from + 30, what="requests after the faults")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert terminated >= 6  # the app's pooled connections really were dropped

    assert traffic.server_errors() == 0, traffic.counts
    assert traffic.counts[201] >= len(traffic.placed) > 40
    # One order per idempotency key, and every order that holds money is one a client was told about.
    assert len(set(traffic.placed.values())) == len(traffic.placed)
    outbox.drain()  # the cancellations' refunds (in-process here; tests/faults/test_workers.py: real workers)
    with time_machine.travel(now() + orders.CARD_CAPTURE_ABANDONED_AFTER + timedelta(minutes=1)):
        swept = orders.cancel_abandoned_card_orders()  # a placement cut off between its transactions
    # A client gives up only on a placement cut off between its transactions: its key answers 503
    # (retry later) until the sweep has voided it, never a second order.
    assert traffic.given_up <= swept
    money = reconcile()
    assert money["net"] == money["gateway_net"], money
    assert money["lost_refunds"] == 0 and money["doubled"] == 0, money
    assert money["refunded"] > 0
    # Every order holding money is one a client was told about: a placement whose answer was lost
    # to a dropped connection is found by its Idempotency-Key claim on retry, not placed twice.
    charged = set(Order.objects.filter(payment__captured_amount__gt=0).values_list("number", flat=True))
    assert charged <= set(traffic.placed.values())
