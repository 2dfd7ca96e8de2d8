"""Konbini payment races on real PostgreSQL: threads with their own connections (SPEC §3, §6)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from payments.konbini import confirmations
from payments.konbini.expiry import expire_overdue_payments
from payments.konbini.models import PaymentReceipt
from payments.models import Payment
from shop.models import Message, Order
from tests.payments import konbini_support
from tests.payments.konbini_support import DEADLINE, GRACE_END, PLACED, confirm_body, issue, konbini_order
from tests.shop.test_concurrency import client_like, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

chain_client = konbini_support.chain_client
lawson = konbini_support.lawson

CONFIRM = "/api/v1/konbini/payments/confirm"


def _pending(external_id: str = "cust-1"):
    with time_machine.travel(PLACED, tick=False):
        order = konbini_order(price=3000, external_id=external_id)
        return order, issue(order, "lawson")


def test_twenty_concurrent_confirmations_of_one_receipt_record_one_payment(lawson):
    order, code = _pending()
    with time_machine.travel(PLACED + timedelta(days=1), tick=True):  # within the deadline, whatever today is
        body = confirm_body(code, amount=3000, receipt="R-SAME")
        statuses = run_concurrently(20, lambda i: client_like(lawson).json("post", CONFIRM, body).status_code)
    assert statuses == [200] * 20
    assert PaymentReceipt.objects.count() == 1
    assert Payment.objects.get(order=order).captured_amount == 3000
    assert Message.objects.filter(order=order, kind="payment_received").count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(to_status="processing").count() == 1


def test_twenty_concurrent_confirmations_with_different_receipts_one_wins_the_rest_already_paid(lawson):
    order, code = _pending()

    def pay(i):
        r = client_like(lawson).json("post", CONFIRM, confirm_body(code, amount=3000, receipt=f"R-{i}"))
        return r.status_code, r.json()["code"] if r.status_code != 200 else "paid"

    with time_machine.travel(PLACED + timedelta(days=1), tick=True):  # within the deadline, whatever today is
        results = run_concurrently(20, pay)
    assert [s for s, _ in results].count(200) == 1
    assert sorted(set(results) - {(200, "paid")}) == [(409, "already_paid")]
    assert PaymentReceipt.objects.count() == 1
    assert Order.objects.get(pk=order.pk).status == "processing"


def _round_trips(n: int) -> None:
    with connection.cursor() as cursor:
        for _ in range(n):
            cursor.execute("SELECT 1")


@pytest.mark.parametrize("round_", range(6))
def test_a_confirmation_racing_the_expiry_at_the_boundary_ends_paid_or_cancelled_never_both(lawson, round_):
    order, code = _pending(external_id=f"race-{round_}")
    answers = {}
    # The chain's clock says the grace ends now; the job's says it just ended: both may act.
    with time_machine.travel(GRACE_END, tick=False):
        def act(i):
            if i == 0:
                _round_trips(round_ * 4)  # vary who reaches the row lock first
                answers["job"] = expire_overdue_payments(at=GRACE_END + timedelta(microseconds=1))["expired"]
            else:
                answers["chain"] = client_like(lawson).json(
                    "post", CONFIRM, confirm_body(code, amount=3000, receipt="R-1")).status_code
        run_concurrently(2, act)
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    if order.status == "processing":
        assert (answers, payment.status) == ({"job": 0, "chain": 200}, "paid")
        assert PaymentReceipt.objects.filter(payment=payment).exists()
        assert not order.events.filter(to_status="cancelled").exists()
    else:
        assert (order.status, order.cancellation_reason) == ("cancelled", "payment_expired")
        assert (answers, payment.status) == ({"job": 1, "chain": 410}, "voided")
        assert not PaymentReceipt.objects.exists() and payment.captured_amount == 0
        assert not order.events.filter(to_status="processing").exists()
    with time_machine.travel(GRACE_END, tick=False):
        again = lawson.json("post", CONFIRM, confirm_body(code, amount=3000, receipt="R-2"))
    assert again.status_code == (409 if order.status == "processing" else 410)


def test_an_expiry_running_while_a_confirmation_holds_the_order_skips_it_and_never_cancels_it():
    order, code = _pending()
    locked, release = threading.Event(), threading.Event()

    def chain_pays():
        try:
            with time_machine.travel(GRACE_END, tick=False), transaction.atomic():
                confirmations.confirm(chain_code="lawson", payment_number=code.number, check_code_value="8888",
                                      cash=confirmations.CashPayment(amount=3000, store_code="LS0001",
                                                                     paid_at=DEADLINE, receipt_number="R-1"),
                                      actor="test")
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    payer = threading.Thread(target=chain_pays)
    payer.start()
    assert locked.wait(timeout=30)
    late = GRACE_END + timedelta(hours=2)
    assert expire_overdue_payments(at=late)["expired"] == 0  # skipped, not blocked
    release.set()
    payer.join(timeout=30)
    assert expire_overdue_payments(at=late)["expired"] == 0  # stale or repeated: still nothing
    assert run_concurrently(3, lambda i: expire_overdue_payments(at=late)["expired"]) == [0, 0, 0]
    order.refresh_from_db()
    assert order.status == "processing"
    assert Payment.objects.get(order=order).status == "paid"


def test_concurrent_expiry_jobs_cancel_each_order_once():
    for n in range(30):
        _pending(external_id=f"c-{n}")
    late = GRACE_END + timedelta(minutes=1)
    counts = run_concurrently(4, lambda i: expire_overdue_payments(at=late, batch_size=5)["expired"])
    assert sum(counts) == 30
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Message.objects.filter(kind="cancelled").count() == 30
