"""The review queue (SPEC §5): approve → the status the order would have had; reject →
cancelled, stock released, refund if paid."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.errors import Conflict
from backoffice.timeutil import end_of_day_after, now
from fraud.models import Report, ReportType
from fraud.services import review
from payments.konbini.chains import KONBINI_PAYMENT_DAYS
from payments.models import Payment, Refund
from tests.factories import ListingFactory, place
from tests.fraud.helpers import login, only_weights

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def hold_everything():
    only_weights(new_address=70)


def test_approved_card_order_goes_to_processing():
    order = place(ListingFactory())
    review.approve(order, actor="staff:sato")
    order.refresh_from_db()
    assert order.status == "processing"
    assert order.events.filter(kind="status_changed", from_status="on_hold", to_status="processing").exists()


def test_approved_paid_digital_order_is_delivered():
    only_weights(digital_new_device=70)
    login("cust-1", "dev-1")
    order = place(ListingFactory(digital=True))
    assert order.status == "on_hold"
    review.approve(order, actor="staff:sato")
    order.refresh_from_db()
    assert order.status == "delivered"


def test_approved_konbini_order_awaits_payment_with_a_fresh_deadline_and_instructions():
    t0 = now()
    with time_machine.travel(t0, tick=False):
        order = place(ListingFactory(), method="konbini")
    later = t0 + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        review.approve(order, actor="staff:sato")
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert Payment.objects.get(order=order).deadline == end_of_day_after(later, KONBINI_PAYMENT_DAYS)
    assert order.messages.filter(kind="payment_instructions").exists()


def test_approved_cod_order_goes_to_processing():
    order = place(ListingFactory(), method="cod")
    review.approve(order, actor="staff:sato")
    order.refresh_from_db()
    assert order.status == "processing"


def test_rejected_order_is_cancelled_stock_released_and_card_refunded():
    listing = ListingFactory(stock=4, price=1500)
    order = place(listing, quantity=3)
    review.reject(order, actor="staff:sato", note="住所と名義が不一致")
    order.refresh_from_db()
    listing.refresh_from_db()
    assert order.status == "cancelled" and order.cancellation_reason == "risk_rejected"
    assert listing.stock == 4
    assert Refund.objects.get(order=order).amount == 4500


def test_decision_is_on_the_review_report_and_ticks_its_checklist():
    order = place(ListingFactory())
    review.approve(order, actor="staff:sato")
    report = Report.objects.get(type=ReportType.RISK_REVIEW)
    assert report.events.filter(kind="order_approved").exists()
    assert report.checks.filter(code="decided_order").exists()


def test_an_order_can_be_decided_only_once():
    order = place(ListingFactory())
    review.approve(order, actor="staff:a")
    with pytest.raises(Conflict) as exc:
        review.reject(order, actor="staff:b")
    assert exc.value.code == "already_reviewed"


def test_the_queue_lists_held_orders_highest_score_first():
    low = place(ListingFactory())
    only_weights(new_address=80)
    high = place(ListingFactory(), external_id="cust-2")
    place(ListingFactory(), external_id="cust-3")
    only_weights()
    place(ListingFactory(), external_id="cust-4")  # not held
    queue = list(review.held_orders())
    assert queue[0] == high and low in queue and len(queue) == 3
