"""Pickup expiry and no-shows (SPEC §4, seed 001): cancelled, returned, refunded, no fee."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.models import OutboxTask
from payments.models import Payment, Refund
from payments.services import bank
from pickup.jobs import expire_pickups
from pickup.models import PickupNoShow, PickupTicket
from shop import events
from shop.jobs import send_pending_messages
from shop.models import Listing, Message, Order
from shop.services import messages
from tests.factories import CustomerFactory
from tests.pickup.conftest import arrive, shipped_pickup_order, ticket_body

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/pickup/tickets"


def test_a_parcel_past_its_deadline_is_cancelled_returned_and_refunded_without_fee(
        parcel, lawson, django_capture_on_commit_callbacks):
    order = parcel.order
    listing = Listing.objects.get(order_lines__order=order)
    stock_before = listing.stock
    with time_machine.travel(parcel.deadline, tick=False):
        assert expire_pickups()["expired"] == 0  # the deadline second itself is still in the window
    with time_machine.travel(parcel.deadline + timedelta(seconds=1), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert expire_pickups() == {"expired": 1, "batches": 1}
        r = lawson.json("post", TICKETS, ticket_body(parcel))
    order.refresh_from_db()
    parcel.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "pickup_expired")
    assert parcel.status == "expired" and parcel.closed_at is not None
    assert r.status_code == 410 and r.json()["code"] == "pickup_expired"  # the keys are dead
    assert "返送" in events.describe(order.events.get(to_status="cancelled"))
    listing.refresh_from_db()
    assert listing.stock == stock_before + 1
    # Refunded in full (no fee), through the refunds service, enqueued and not run inline.
    [refund] = Refund.objects.filter(order=order)
    assert (refund.amount, refund.status, refund.reason) == (order.total, "requested", "pickup_expired")
    assert Payment.objects.get(order=order).refunded_amount == order.total
    assert not callbacks  # nothing is published from the transaction: the refund waits in the outbox
    assert list(OutboxTask.objects.filter(task="payments.process_refund").values_list("args", flat=True)) == [
        [refund.pk]]
    [message] = Message.objects.filter(order=order, kind="cancelled")
    # The batch renders the template once; the text is what messages.render gives this order.
    assert (message.subject, message.body) == messages.render(
        "cancelled", {"customer": order.customer, "order": order, "refund": refund})
    assert "返金いたします" in message.body and "キャンセル料はかかりません" in message.body
    assert PickupNoShow.objects.filter(order=order, customer=order.customer).exists()


def test_running_the_expiry_twice_does_nothing_more(parcel):
    with time_machine.travel(parcel.deadline + timedelta(minutes=1), tick=False):
        expire_pickups()
        assert expire_pickups() == {"expired": 0, "batches": 0}
    assert Refund.objects.filter(order=parcel.order).count() == 1
    assert PickupNoShow.objects.count() == 1


def test_a_ticket_printed_before_the_deadline_holds_off_the_expiry_for_its_30_minutes(parcel, lawson):
    with time_machine.travel(parcel.deadline - timedelta(minutes=1), tick=False):
        number = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    with time_machine.travel(parcel.deadline + timedelta(minutes=5), tick=False):
        assert expire_pickups()["expired"] == 0
        assert lawson.json("post", f"{TICKETS}/{number}/redeem", {"store_code": parcel.store.code}).status_code == 200
    parcel.order.refresh_from_db()
    assert parcel.order.status == "delivered"


def test_an_unused_ticket_holds_the_parcel_for_its_30_minutes_and_no_longer(parcel, lawson):
    printed = parcel.deadline - timedelta(minutes=1)
    with time_machine.travel(printed, tick=False):
        number = lawson.json("post", TICKETS, ticket_body(parcel)).json()["ticket_number"]
    with time_machine.travel(printed + timedelta(minutes=30), tick=False):  # the ticket's last second
        assert expire_pickups()["expired"] == 0
    with time_machine.travel(printed + timedelta(minutes=30, seconds=1), tick=False):
        assert expire_pickups()["expired"] == 1
    assert PickupTicket.objects.get(number=number).voided_at is not None


def test_a_parcel_cancelled_by_another_path_loses_its_keys_at_once(parcel):
    from shop.services import shipments

    shipments.record_event(shipment=parcel.order.shipment, type="returned", occurred_at=parcel.arrived_at,
                           location="センター", actor="carrier:test")
    parcel.refresh_from_db()
    assert parcel.status == "cancelled"  # by the cancellation itself, not left for the expiry job
    with time_machine.travel(parcel.deadline + timedelta(minutes=1), tick=False):
        assert expire_pickups() == {"expired": 0, "batches": 0}
    assert not PickupNoShow.objects.exists()


def test_the_third_no_show_within_365_days_opens_an_account_review_case(store, make_parcel):
    from fraud.models import Report

    first = make_parcel(store)
    with time_machine.travel(first.deadline + timedelta(minutes=1), tick=False):
        expire_pickups()
    second = make_parcel(store)
    with time_machine.travel(second.deadline + timedelta(minutes=1), tick=False):
        expire_pickups()
    assert not Report.objects.exists()
    third = make_parcel(store)
    with time_machine.travel(third.deadline + timedelta(minutes=1), tick=False):
        expire_pickups()
    [report] = Report.objects.all()
    assert report.type == "repeated_pickup_cancellation"
    assert report.customer == first.order.customer
    assert set(report.orders.all()) == {first.order, second.order, third.order}
    assert PickupNoShow.objects.get(order=third.order).review_opened


@pytest.mark.parametrize("third_after_first, opened", [
    (timedelta(days=365) - timedelta(seconds=1), True),  # the first no-show is still within 365 days
    (timedelta(days=365), False),  # 365 days old: it no longer counts, the third is only the second
])
def test_a_no_show_counts_towards_the_review_for_365_days(store, make_parcel, third_after_first, opened):
    from fraud.models import Report

    def no_show_at(at):
        with time_machine.travel(at - timedelta(days=20), tick=False):
            parcel = make_parcel(store)
        assert parcel.deadline < at
        with time_machine.travel(at, tick=False):
            assert expire_pickups()["expired"] == 1
        return parcel

    first_at = make_parcel(store).deadline + timedelta(minutes=1)
    with time_machine.travel(first_at, tick=False):
        assert expire_pickups()["expired"] == 1
    no_show_at(first_at + timedelta(days=100))
    third = no_show_at(first_at + third_after_first)
    assert PickupNoShow.objects.count() == 3
    assert Report.objects.filter(type="repeated_pickup_cancellation").exists() is opened
    assert PickupNoShow.objects.get(order=third.order).review_opened is opened


def test_expired_orders_show_in_the_order_resource(parcel, storefront):
    with time_machine.travel(parcel.deadline + timedelta(minutes=1), tick=False):
        expire_pickups()
    body = storefront.get(f"/api/v1/orders/{parcel.order.number}").json()
    assert body["status"] == "cancelled" and body["cancellation_reason"] == "pickup_expired"
    assert body["pickup"]["status"] == "expired" and body["pickup"]["auth_number"] is None
    assert Order.objects.get(pk=parcel.order_id).refunds.get().amount == body["total"]


def test_after_commit_celery_refunds_the_card_and_mails_the_cancellation(parcel, django_capture_on_commit_callbacks):
    from django.core import mail

    mail.outbox.clear()
    with time_machine.travel(parcel.deadline + timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            expire_pickups()
    refund = Refund.objects.get(order=parcel.order)
    assert (refund.method, refund.status) == ("card", "succeeded")
    send_pending_messages()  # the message relay
    subjects = [m.subject for m in mail.outbox]
    assert f"ご注文のキャンセル 注文番号 {parcel.order.number}" in subjects
    timeline = list(parcel.order.events.values_list("kind", flat=True))
    assert {"status_changed", "refund_requested", "refund_succeeded"} <= set(timeline)


def test_konbini_paid_parcels_are_refunded_the_way_each_customer_chose_with_one_query(store):
    to_bank = CustomerFactory(external_id="cust-bank")
    bank.set_bank_account(customer=to_bank, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    parcels = []
    for external_id in ("cust-bank", "cust-gift", "cust-bank", "cust-gift"):
        order, shipment = shipped_pickup_order(store, method="konbini", external_id=external_id)
        arrive(shipment, store.code)
        parcels.append(order)
    deadline = max(o.pickup.deadline for o in Order.objects.filter(pk__in=[o.pk for o in parcels]))
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        with CaptureQueriesContext(connection) as one_batch:
            assert expire_pickups()["expired"] == 4
    methods = {r.order.customer.external_id: r.method for r in Refund.objects.select_related("order__customer")}
    assert methods == {"cust-bank": "bank_transfer", "cust-gift": "gift_card"}
    assert Refund.objects.filter(method="bank_transfer").count() == 2
    assert {r.amount for r in Refund.objects.all()} == {o.total for o in parcels}
    # One look-up of the customers' refund choice for the whole batch, not one per payment.
    assert sum("bankaccount" in q["sql"] for q in one_batch.captured_queries) == 1


def test_a_batch_costs_the_same_statements_for_one_parcel_or_many(store):
    """Set-based: an expiry batch's statements do not grow with its parcels (the refunds, their
    events and outbox rows, the messages and no-shows each one statement), within a literal bound."""

    def batch(n: int, tag: str) -> int:
        made = []
        for i in range(n):
            order, shipment = shipped_pickup_order(store, external_id=f"stmt-{tag}-{i}")
            arrive(shipment, store.code)
            made.append(order)
        deadline = max(o.pickup.deadline for o in Order.objects.filter(pk__in=[o.pk for o in made]))
        with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
            with CaptureQueriesContext(connection) as ctx:
                assert expire_pickups()["expired"] == n
        assert Refund.objects.filter(order__in=made).count() == n
        return len(ctx.captured_queries)

    one = batch(1, "one")
    assert batch(8, "many") == one <= 27  # 27: with the webhook subscriber check (one per batch)
