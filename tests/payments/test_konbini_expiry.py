"""Auto-cancellation of unpaid konbini orders (SPEC §3, §6; seed 003)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice import jobs
from payments.konbini.expiry import expire_overdue_payments
from payments.konbini.models import PaymentCode
from payments.models import Payment, Refund
from shop.jobs import send_pending_messages
from shop.models import Customer, Listing, Message, Order
from shop.services import orders
from tests.payments import konbini_support
from tests.payments.konbini_support import (
    DEADLINE,
    GRACE_END,
    PLACED,
    confirm_body,
    issue,
    konbini_order,
)

pytestmark = pytest.mark.django_db

# Fixtures shared by the konbini tests.
chain_client = konbini_support.chain_client
lawson = konbini_support.lawson



@pytest.fixture
def pending():
    with time_machine.travel(PLACED, tick=False):
        order = konbini_order(price=2000, quantity=2, stock=5)
        code = issue(order, "lawson")
    return order, code


def test_nothing_expires_until_deadline_plus_grace(pending):
    order, _ = pending
    with time_machine.travel(GRACE_END, tick=False):
        assert expire_overdue_payments()["expired"] == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_after_the_grace_the_order_is_cancelled_stock_released_code_voided_and_customer_told(
        pending, storefront, django_capture_on_commit_callbacks, mailoutbox):
    order, code = pending
    listing = Listing.objects.get(order_lines__order=order)
    assert listing.stock == 3
    with time_machine.travel(GRACE_END + timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert expire_overdue_payments() == {"expired": 1, "batches": 1}
    order.refresh_from_db()
    listing.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_expired")
    assert listing.stock == 5
    assert Payment.objects.get(order=order).status == "voided"
    assert PaymentCode.objects.get(pk=code.pk).status == "void"
    message = Message.objects.get(order=order, kind="cancelled")
    assert message.dedupe_key == f"cancelled:{order.number}" and "支払い期限切れ" in message.body
    assert "ペナルティはありません" in message.body
    send_pending_messages()  # the message relay
    assert [m.subject for m in mailoutbox if "キャンセル" in m.subject] == [message.subject]
    event = order.events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.actor) == ("pending_payment", "cancelled",
                                                                 "system:konbini_expiry")
    assert not Refund.objects.exists()


def test_an_expired_order_disappears_from_the_customers_history_but_not_for_staff(pending, storefront):
    order, _ = pending
    with time_machine.travel(GRACE_END + timedelta(minutes=5), tick=False):
        expire_overdue_payments()
    history = storefront.get(f"/api/v1/customers/{order.customer.external_id}/orders").json()
    assert order.number not in [o["order_number"] for o in history["results"]]
    assert storefront.get(f"/api/v1/orders/{order.number}").json()["cancellation_reason"] == "payment_expired"


def test_running_the_job_twice_cancels_once(pending):
    order, _ = pending
    with time_machine.travel(GRACE_END + timedelta(minutes=5), tick=False):
        assert expire_overdue_payments()["expired"] == 1
        assert expire_overdue_payments()["expired"] == 0
    assert order.events.filter(to_status="cancelled").count() == 1
    assert Message.objects.filter(order=order, kind="cancelled").count() == 1
    assert Listing.objects.get(order_lines__order=order).stock == 5


def test_a_paid_order_is_never_cancelled_by_a_later_or_repeated_run(pending, lawson):
    order, code = pending
    with time_machine.travel(DEADLINE + timedelta(minutes=30), tick=False):
        assert lawson.json("post", "/api/v1/konbini/payments/confirm", confirm_body(code, amount=4000)).status_code == 200
    with time_machine.travel(GRACE_END + timedelta(days=3), tick=False):
        assert expire_overdue_payments()["expired"] == 0
        assert expire_overdue_payments(order_ids=[order.pk])["expired"] == 0
    order.refresh_from_db()
    assert order.status == "processing"


def test_expiry_carries_no_penalty_however_often(storefront):
    for round_ in range(3):
        with time_machine.travel(PLACED + timedelta(days=10 * round_), tick=False):
            konbini_order(external_id="often")
        with time_machine.travel(PLACED + timedelta(days=10 * round_ + 8), tick=False):
            assert expire_overdue_payments()["expired"] == 1
    customer = Customer.objects.get(external_id="often")
    assert not customer.suspended
    with time_machine.travel(PLACED + timedelta(days=40), tick=False):
        assert konbini_order(external_id="often").status == "pending_payment"


def test_batches_cover_every_overdue_order():
    with time_machine.travel(PLACED, tick=False):
        for n in range(5):
            konbini_order(external_id=f"c-{n}")
    with time_machine.travel(GRACE_END + timedelta(seconds=1), tick=False):
        assert expire_overdue_payments(batch_size=2) == {"expired": 5, "batches": 3}
    assert set(Order.objects.values_list("status", flat=True)) == {"cancelled"}


def test_a_cancellation_by_another_path_voids_the_code_at_once(pending):
    order, code = pending
    orders.cancel(order, reason="customer_request", actor="test")
    assert PaymentCode.objects.get(pk=code.pk).status == "void"  # not left for a later sweep


def test_the_job_is_registered_for_beat_and_run_periodic_jobs(pending):
    job = jobs.load_all()["expire_konbini_payments"]
    assert job.every_seconds <= 600
    from backoffice.celery import app

    jobs.install_beat_schedule(app)
    assert app.conf.beat_schedule["job:expire_konbini_payments"]["args"] == ("expire_konbini_payments",)
    with time_machine.travel(GRACE_END + timedelta(seconds=1), tick=False):
        from django.core.management import call_command

        call_command("run_periodic_jobs", only=["expire_konbini_payments"])
    order, _ = pending
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_the_bulk_cancellation_message_is_exactly_what_the_single_path_renders():
    from shop.models import CancellationReason
    from shop.services.messages import cancellation_text, render

    with time_machine.travel(PLACED, tick=False):
        order = konbini_order(external_id="escape-me")
    customer = order.customer
    customer.name = "山田 <太郎> & 花子"
    customer.save()
    order.status, order.cancellation_reason = "cancelled", "payment_expired"
    bulk = cancellation_text(customer.name, order.number, reason=CancellationReason.PAYMENT_EXPIRED, refunded=False)
    assert bulk == render("cancelled", {"customer": customer, "order": order, "refund": None})
    assert "&lt;太郎&gt;" in bulk[1]


def test_a_batch_costs_the_same_statements_for_one_order_or_many():
    """The sweep is set-based: a batch's statements do not grow with its orders (SQL text included,
    on PostgreSQL: one array parameter per column), and stay within a literal bound."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def batch(n: int, tag: str) -> list[str]:
        with time_machine.travel(PLACED, tick=False):
            made = [konbini_order(price=1000, quantity=1, stock=5, external_id=f"batch-{tag}-{i}") for i in range(n)]
            for order in made:
                issue(order, "lawson")
        with time_machine.travel(GRACE_END + timedelta(seconds=1), tick=False):
            with CaptureQueriesContext(connection) as ctx:
                assert expire_overdue_payments()["expired"] == n
        return [q["sql"] for q in ctx.captured_queries]

    one, many = batch(1, "one"), batch(12, "many")
    # The candidates; per batch: lock + plan read, order UPDATE, stock (units, lock, UPDATE), payments,
    # codes, events, messages, the webhook subscriber check — plus two savepoint pairs (the test's
    # transaction and the core's).
    assert len(one) == len(many) <= 15, "\n".join(s[:90] for s in many)
    if connection.vendor == "postgresql":
        assert "IN (" not in " ".join(many)  # every list travels as one array
