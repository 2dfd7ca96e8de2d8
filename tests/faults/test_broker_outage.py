"""A broker outage delays work and never fails a request (the outbox, issue "One write path").

The broker is a throwaway server this test starts, kills (SIGKILL) and starts again on the same
port — once a ``redis-server``, once a RabbitMQ node. While it is down, placement, cancellation,
a return, a carrier's arrival report and a konbini confirmation answer as usual; the relay keeps
every task in the outbox. When it is back, a real worker processes every refund once (gateway calls counted) and every message is
e-mailed once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection

from backoffice import outbox
from backoffice.models import OutboxTask, Partner
from backoffice.timeutil import now
from payments.konbini import codes
from payments.models import Refund, SandboxGatewayRefund
from pickup.models import Pickup
from shop.models import Message, Order, OrderStatus
from shop.services import messages
from tests.factories import ListingFactory, StoreFactory, order_payload, place
from tests.faults.conftest import celery_on
from tests.payments.konbini_support import confirm_body
from tests.pickup.conftest import shipped_pickup_order
from tests.support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_with_the_broker_down_requests_answer_and_every_task_runs_once_when_it_is_back(
        throwaway_broker, make_client, storefront, carrier):
    lawson = make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")
    store = StoreFactory(chain="lawson", code="LS0001")
    to_cancel = place(ListingFactory(price=1200), external_id="c-cancel")
    to_return = place(ListingFactory(price=1500, sku="TEA-01"), external_id="c-return", quantity=2)
    Order.objects.filter(pk=to_return.pk).update(status=OrderStatus.DELIVERED)
    konbini = place(ListingFactory(price=2980), method="konbini", external_id="c-konbini")
    code, _ = codes.issue(order=konbini, chain_code="lawson", actor="storefront")
    parcel_order, shipment = shipped_pickup_order(store, external_id="c-parcel")
    throwaway_broker.start()
    throwaway_broker.kill()  # the broker goes away; the app's connections to it break

    with celery_on(throwaway_broker.url) as app:
        placed = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(price=800),
                                                                           external_id="c-new"))
        cancelled = storefront.json("post", f"/api/v1/orders/{to_cancel.number}/cancel",
                                    {"reason": "customer_request"})
        returned = storefront.json("post", f"/api/v1/orders/{to_return.number}/returns",
                                   {"lines": [{"sku": "TEA-01", "quantity": 1}]})
        arrived = carrier.json("post", f"/api/v1/shipments/{shipment.tracking_number}/events",
                               {"type": "arrived_at_store", "occurred_at": now().isoformat(), "location": store.name,
                                "store_code": store.code})
        paid = lawson.json("post", "/api/v1/konbini/payments/confirm", confirm_body(code, amount=2980))
        assert [r.status_code for r in (placed, cancelled, returned, arrived, paid)] == [201, 200, 201, 201, 200]

        waiting = OutboxTask.objects.filter(published_at__isnull=True)
        assert sorted(waiting.values_list("task", flat=True)) == [
            "payments.process_refund", "payments.process_refund", "pickup.send_pickup_notice"]
        assert outbox.relay()["published"] == 0  # the broker is down: nothing lost, nothing published
        assert waiting.count() == 3 and all(row.last_error for row in waiting.exclude(task="pickup.send_pickup_notice"))
        assert not SandboxGatewayRefund.objects.exists()

        throwaway_broker.start()  # the broker is back
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
            # Past the relay's backoff and the pickup notice's delay, the relay publishes all three.
            with time_machine.travel(now() + timedelta(hours=2)):
                assert outbox.relay() == {"published": 3, "failed": 0}
                wait_until(lambda: Refund.objects.filter(status=Refund.Status.SUCCEEDED).count() == 2,
                           what="both refunds")
                wait_until(lambda: Pickup.objects.get(order=parcel_order).noticed_at is not None,
                           what="the pickup notice")
                assert outbox.relay() == {"published": 0, "failed": 0}  # each published once
            connection.close()

    assert sorted(SandboxGatewayRefund.objects.values_list("calls", flat=True)) == [1, 1]
    sent = messages.deliver_pending()
    assert sent == Message.objects.count()
    assert len(mail.outbox) == sent and messages.deliver_pending() == 0
    assert sorted(m.subject for m in mail.outbox) == sorted(Message.objects.values_list("subject", flat=True))
