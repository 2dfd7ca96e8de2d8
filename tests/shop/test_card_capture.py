"""Card capture at placement (orders.place): Saleor's order — reserve and commit, capture with no
transaction open under an idempotency key derived from the order, then a short second
transaction. Declines and gateway failures cancel the order; a capture whose order did not go on
is voided, so no money is kept for an order that does not exist. The sandbox gateway records
every capture (``SandboxGatewayCapture``): these tests count its rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction

from backoffice.models import IdempotencyRecord
from backoffice.timeutil import now
from payments.gateway import PAYMENT_RETRY_AFTER_SECONDS, SandboxGateway
from payments.models import Payment, SandboxGatewayCapture
from shop.jobs import cancel_abandoned_card_orders
from shop.models import Listing, Order
from shop.services import card_capture, messages, orders
from tests.conftest import PartnerClient
from tests.factories import HOME, ListingFactory, order_payload, place
from tests.support import wait_until

Capture = SandboxGatewayCapture


def card_payload(listing: Listing, token: str, external_id: str = "cust-1") -> dict:
    payload = order_payload(listing, external_id=external_id)
    payload["card_token"] = token
    return payload


# --- the idempotency key -------------------------------------------------------------------

@pytest.mark.django_db
def test_the_capture_is_made_under_a_key_derived_from_the_order():
    order = place(ListingFactory(price=1500))
    capture = Capture.objects.get()
    assert capture.idempotency_key == card_capture.capture_key(order) == f"capture:{order.number}"
    assert (capture.status, capture.amount, capture.calls) == ("captured", 1500, 1)
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount, payment.gateway_reference) == ("paid", 1500, capture.reference)
    assert order.status == "processing" and order.payment.status == "paid"


@pytest.mark.django_db
def test_a_repeated_capture_with_the_same_key_captures_once():
    gateway = SandboxGateway()
    first = gateway.capture(token="tok_visa", amount=1000, reference="x", idempotency_key="capture:k")
    again = gateway.capture(token="tok_visa", amount=1000, reference="x", idempotency_key="capture:k")
    assert first == again
    capture = Capture.objects.get()
    assert (capture.status, capture.calls) == ("captured", 2)


@pytest.mark.django_db
def test_a_capture_whose_answer_was_lost_is_retried_with_its_key_and_taken_once(storefront):
    listing = ListingFactory(price=2000, stock=3)
    r = storefront.json("post", "/api/v1/orders", card_payload(listing, "tok_capture_lost"))
    assert r.status_code == 201 and r.json()["status"] == "processing"
    capture = Capture.objects.get()  # one capture, asked for twice
    assert (capture.status, capture.calls, capture.amount) == ("captured", card_capture.CARD_CAPTURE_ATTEMPTS, 2000)
    payment = Payment.objects.get(order__number=r.json()["order_number"])
    assert (payment.status, payment.gateway_reference) == ("paid", capture.reference)


def test_two_capture_attempts_in_all():
    assert card_capture.CARD_CAPTURE_ATTEMPTS == 2
    assert PAYMENT_RETRY_AFTER_SECONDS == 30


# --- declines and failures: stock back, no money kept ----------------------------------------

@pytest.mark.django_db
def test_a_decline_leaves_the_stock_as_it_was_and_charges_nothing(storefront):
    listing = ListingFactory(stock=4)
    r = storefront.json("post", "/api/v1/orders", card_payload(listing, "tok_declined"))
    assert r.status_code == 402 and r.json()["code"] == "card_declined"
    assert Listing.objects.get(pk=listing.pk).stock == 4
    assert not Capture.objects.filter(status="captured").exists()
    order = Order.objects.get()
    assert order.cancellation_reason == "payment_failed" and not order.refunds.exists()
    assert not order.messages.filter(kind="order_confirmed").exists()


@pytest.mark.django_db
def test_a_gateway_that_never_answers_is_503_and_its_capture_is_voided(storefront):
    listing = ListingFactory(stock=2, price=5000)
    r = storefront.json("post", "/api/v1/orders", card_payload(listing, "tok_capture_timeout"),
                        HTTP_IDEMPOTENCY_KEY="try-1")
    assert r.status_code == 503 and r.json()["code"] == "payment_gateway_unavailable"
    assert r["Retry-After"] == str(PAYMENT_RETRY_AFTER_SECONDS)
    assert Listing.objects.get(pk=listing.pk).stock == 2
    # The gateway did take the money (only its answer was lost): placement voided it by its key.
    capture = Capture.objects.get()
    assert (capture.status, capture.calls) == ("voided", card_capture.CARD_CAPTURE_ATTEMPTS)
    order = Order.objects.get()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_failed")
    assert order.payment.captured_amount == 0 and not order.refunds.exists()
    assert not IdempotencyRecord.objects.exists()  # "try again later" is not replayed


@pytest.mark.django_db
def test_a_failure_after_the_capture_voids_it_and_cancels_the_order(monkeypatch):
    """The second transaction fails (here: building the confirmation message raises, on either
    path of transaction 2: ``messages.notify`` or PostgreSQL's one statement)."""
    real_build = messages.build

    def failing_build(*, kind, **kwargs):
        if kind == "order_confirmed":
            raise RuntimeError("transaction 2 fails")
        return real_build(kind=kind, **kwargs)

    monkeypatch.setattr(messages, "build", failing_build)
    listing = ListingFactory(stock=3, price=4000)
    with pytest.raises(RuntimeError):
        place(listing)
    assert Listing.objects.get(pk=listing.pk).stock == 3
    capture = Capture.objects.get()
    assert capture.status == "voided" and capture.voided_at is not None
    order = Order.objects.get()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_failed")
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount) == ("voided", 0)
    assert not order.refunds.exists()


@pytest.mark.django_db
def test_a_malformed_token_is_400_and_writes_nothing(storefront):
    r = storefront.json("post", "/api/v1/orders", card_payload(ListingFactory(), "tok_nope"))
    assert r.status_code == 400 and r.json()["code"] == "invalid_card_token"
    assert not Order.objects.exists() and not Capture.objects.exists()


# --- real PostgreSQL: nothing is held while the capture is in flight --------------------------

def _twin(client: PartnerClient) -> PartnerClient:
    twin = PartnerClient()
    twin._credentials = dict(client._credentials)
    return twin


class SlowCapture:
    """A ``tok_capture_slow`` placement in another thread, held inside the gateway call."""

    def __init__(self, client: PartnerClient, payload: dict, hold: Path, **extra) -> None:
        self.hold = hold
        hold.touch()
        self.response = None
        self.thread = threading.Thread(target=self._run, args=(_twin(client), payload, extra))
        self.thread.start()
        wait_until(lambda: Path(f"{hold}.entered").exists(), what="the capture to be in flight")

    def _run(self, client, payload, extra) -> None:
        try:
            self.response = client.json("post", "/api/v1/orders", payload, **extra)
        finally:
            connection.close()

    def finish(self):
        self.hold.unlink()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        return self.response


@pytest.fixture
def hold_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "gateway-hold"
    monkeypatch.setenv("SANDBOX_GATEWAY_HOLD_FILE", str(path))
    yield path
    path.unlink(missing_ok=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_while_a_slow_capture_is_in_flight_the_listing_and_customer_are_not_locked(storefront, hold_file):
    listing = ListingFactory(stock=2, price=1000)
    slow = SlowCapture(storefront, card_payload(listing, "tok_capture_slow"), hold_file,
                       HTTP_IDEMPOTENCY_KEY="slow-1")
    # No transaction is open anywhere while the gateway holds the capture...
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND state LIKE 'idle in transaction%%'")
        assert cursor.fetchone()[0] == 0
        # ...so another placement of the same listing, by the same customer, waits for no lock.
        cursor.execute("SET lock_timeout = '5s'")
    try:
        other = storefront.json("post", "/api/v1/orders", card_payload(listing, "tok_visa"))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert other.status_code == 201 and other.json()["status"] == "processing"
    assert Capture.objects.filter(status="captured").count() == 2  # the slow one has captured, not answered
    r = slow.finish()
    assert r.status_code == 201 and r.json()["status"] == "processing"
    assert Listing.objects.get(pk=listing.pk).stock == 0
    assert Order.objects.filter(status="processing").count() == 2
    assert Payment.objects.filter(status="paid").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_cancelled_while_its_card_is_captured_keeps_no_money(storefront, hold_file):
    listing = ListingFactory(stock=1, price=7000)
    slow = SlowCapture(storefront, card_payload(listing, "tok_capture_slow"), hold_file)
    order = Order.objects.get()
    assert order.status == "pending_payment"  # committed and waiting for the capture: nothing ships
    cancelled = storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    r = slow.finish()
    assert r.status_code == 201 and r.json()["status"] == "cancelled"
    capture = Capture.objects.get()
    assert capture.status == "voided"  # captured after the cancel, given back by its key
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount) == ("voided", 0)
    assert not order.refunds.exists()
    assert Listing.objects.get(pk=listing.pk).stock == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_with_one_key_capture_once():
    from tests.support import run_concurrently

    def capture(i):
        return SandboxGateway().capture(token="tok_visa", amount=900, reference="x", idempotency_key="capture:same")

    references = run_concurrently(6, capture)
    assert len(set(references)) == 1
    row = Capture.objects.get()
    assert (row.status, row.calls) == ("captured", 6)


# --- a placement that dies between its two transactions ---------------------------------------

@pytest.mark.django_db
def test_the_sweep_leaves_a_capture_in_flight_alone_and_cancels_an_abandoned_one():
    """Transaction 1 committed, then the process died before the capture: the order waits."""
    listing = ListingFactory(stock=2)
    with transaction.atomic():
        order, _ = orders._open_order(  # what a placement had committed when its process died
            customer_data=order_payload(listing)["customer"], items=[{"sku": listing.sku, "quantity": 1}],
            shipping_speed="standard", destination=orders.Destination(**HOME), payment_method="card",
            card_token="tok_visa", actor="storefront")
    assert (order.status, Listing.objects.get(pk=listing.pk).stock) == ("pending_payment", 1)
    assert cancel_abandoned_card_orders() == {"cancelled": 0}  # it may still be capturing
    with time_machine.travel(now() + orders.CARD_CAPTURE_ABANDONED_AFTER + timedelta(seconds=1)):
        assert cancel_abandoned_card_orders() == {"cancelled": 1}
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_failed")
    assert Listing.objects.get(pk=listing.pk).stock == 2
    assert not Capture.objects.exists()


def test_an_abandoned_card_order_is_swept_after_ten_minutes():
    assert orders.CARD_CAPTURE_ABANDONED_AFTER == timedelta(minutes=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_placement_killed_after_the_capture_keeps_no_money(tmp_path):
    """A real crash: the placing process is SIGKILLed while the gateway holds its answer (the
    money is taken); the sweep voids the capture by its key and cancels the order."""
    listing = ListingFactory(stock=1, price=6000)
    hold = tmp_path / "gateway-hold"
    hold.touch()
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "SANDBOX_GATEWAY_HOLD_FILE": str(hold), "CONN_MAX_AGE": "0"}
    script = (
        "import django; django.setup()\n"
        "from shop.services import orders\n"
        "from tests.factories import HOME, customer_payload\n"
        f"orders.place(customer_data=customer_payload('crash-1'), items=[{{'sku': {listing.sku!r}, 'quantity': 1}}],\n"
        "             shipping_speed='standard', destination=orders.Destination(**HOME), payment_method='card',\n"
        "             card_token='tok_capture_slow')\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: Path(f"{hold}.entered").exists() or process.poll() is not None,
                   what="the capture to be in flight")
        assert process.poll() is None, process.stderr.read().decode()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        hold.unlink(missing_ok=True)
    order = Order.objects.get()
    assert order.status == "pending_payment" and Capture.objects.get().status == "captured"
    with time_machine.travel(now() + orders.CARD_CAPTURE_ABANDONED_AFTER + timedelta(seconds=1)):
        assert cancel_abandoned_card_orders() == {"cancelled": 1}
        assert cancel_abandoned_card_orders() == {"cancelled": 0}
    assert Capture.objects.get().status == "voided"
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_failed")
    assert Payment.objects.get(order=order).captured_amount == 0 and not order.refunds.exists()
    assert Listing.objects.get(pk=listing.pk).stock == 1
