"""Every allowed and every forbidden order transition (SPEC §2 "Statuses")."""

from __future__ import annotations

import itertools

import pytest

from backoffice.errors import Conflict
from shop.models import Order, OrderEvent, OrderStatus
from shop.services import orders
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db

S = OrderStatus
# Written out from SPEC §2, independently of shop/states.py.
ALLOWED = {
    (S.ON_HOLD, S.PENDING_PAYMENT), (S.ON_HOLD, S.PROCESSING), (S.ON_HOLD, S.CANCELLED),
    (S.ON_HOLD, S.DELIVERED),  # an approved digital order, already paid
    (S.PENDING_PAYMENT, S.PROCESSING), (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PENDING_PAYMENT, S.DELIVERED),  # a digital order paid at the konbini
    (S.PROCESSING, S.SHIPPED), (S.PROCESSING, S.CANCELLED),
    (S.PROCESSING, S.DELIVERED),  # digital: delivered once paid
    (S.SHIPPED, S.READY_FOR_PICKUP), (S.SHIPPED, S.DELIVERED), (S.SHIPPED, S.CANCELLED),
    (S.READY_FOR_PICKUP, S.DELIVERED), (S.READY_FOR_PICKUP, S.CANCELLED),
    (S.PROCESSING, S.PENDING_PAYMENT),  # issue 14: 速報取消 before shipment — awaiting payment again
}
# Only a digital order skips shipping on its way to delivered, or is cancelled once delivered.
DIGITAL_ONLY = {(S.ON_HOLD, S.DELIVERED), (S.PENDING_PAYMENT, S.DELIVERED), (S.PROCESSING, S.DELIVERED),
                (S.DELIVERED, S.CANCELLED)}
PAIRS = [(a, b) for a, b in itertools.product(S.values, S.values) if a != b]


def order_in(status: str, *, digital: bool = False) -> Order:
    order = place(ListingFactory(digital=digital))
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


# A cancellation goes through the cancellation core with a reason whose rule covers the status.
CANCEL_REASON = {S.ON_HOLD: "support", S.PENDING_PAYMENT: "support", S.PROCESSING: "support",
                 S.SHIPPED: "returned", S.READY_FOR_PICKUP: "returned", S.DELIVERED: "support"}


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_allowed_transition_moves_and_is_on_the_timeline(from_status, to_status):
    order = order_in(from_status, digital=(from_status, to_status) in DIGITAL_ONLY)
    if to_status == S.CANCELLED:
        orders.cancel(order, reason=CANCEL_REASON[from_status], actor="test")
    else:
        orders.transition(order, to_status, actor="test")
    order.refresh_from_db()
    assert order.status == to_status
    event = OrderEvent.objects.filter(order=order, kind="status_changed").last()
    assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, "test")


@pytest.mark.parametrize(("from_status", "to_status"), sorted(set(PAIRS) - ALLOWED))
def test_forbidden_transition_is_refused_and_writes_nothing(from_status, to_status):
    order = order_in(from_status)
    events_before = OrderEvent.objects.filter(order=order).count()
    with pytest.raises(Conflict) as err:
        orders.transition(order, to_status, actor="test")
    assert err.value.code == "invalid_transition"
    order.refresh_from_db()
    assert order.status == from_status
    assert OrderEvent.objects.filter(order=order).count() == events_before


def test_a_delivered_digital_order_can_be_cancelled_but_a_parcel_cannot():
    digital = order_in(S.DELIVERED, digital=True)
    orders.cancel(digital, reason="support", actor="test")
    assert Order.objects.get(pk=digital.pk).status == S.CANCELLED
    parcel = order_in(S.DELIVERED)
    with pytest.raises(Conflict) as err:
        orders.cancel(parcel, reason="support", actor="test")
    assert err.value.code == "not_cancellable"
    assert Order.objects.get(pk=parcel.pk).status == S.DELIVERED


def test_a_bare_transition_to_cancelled_is_refused_cancelling_is_the_cores_job():
    order = order_in(S.PROCESSING)
    with pytest.raises(Conflict) as err:
        orders.transition(order, S.CANCELLED, actor="test")
    assert err.value.code == "invalid_transition"
    assert Order.objects.get(pk=order.pk).status == S.PROCESSING


def test_every_cancellation_reason_has_a_rule_whose_statuses_the_state_table_allows():
    from shop import states
    from shop.models import CancellationReason

    assert set(states.CANCEL_RULES) == set(CancellationReason.values)
    for reason, rule in states.CANCEL_RULES.items():
        assert rule.statuses, reason
        for status in rule.statuses:
            assert (status, S.CANCELLED) in ALLOWED, (reason, status)


@pytest.mark.parametrize(("reason", "status", "expected"), [
    ("customer_request", S.PROCESSING, True), ("customer_request", S.SHIPPED, False),
    ("payment_expired", S.PENDING_PAYMENT, True), ("payment_expired", S.PROCESSING, False),
    ("pickup_expired", S.READY_FOR_PICKUP, True), ("pickup_expired", S.SHIPPED, False),
    ("cod_refused", S.SHIPPED, True), ("returned", S.READY_FOR_PICKUP, True), ("returned", S.PROCESSING, False),
    ("risk_rejected", S.ON_HOLD, True), ("risk_rejected", S.PROCESSING, False),
    ("support", S.SHIPPED, False), ("support", S.ON_HOLD, True),
])
def test_which_reason_may_cancel_which_status(reason, status, expected):
    order = order_in(status)
    if expected:
        orders.cancel(order, reason=reason, actor="test")
        assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    else:
        with pytest.raises(Conflict) as err:
            orders.cancel(order, reason=reason, actor="test")
        assert err.value.code == "not_cancellable"
        assert Order.objects.get(pk=order.pk).status == status


def test_a_stale_copy_cannot_move_an_order_someone_else_moved():
    order = order_in(S.PROCESSING)
    stale = Order.objects.get(pk=order.pk)
    orders.transition(order, S.SHIPPED, actor="first")
    with pytest.raises(Conflict):
        orders.transition(stale, S.CANCELLED, actor="second", reason="support")
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED


@pytest.mark.parametrize(("from_status", "to_status"), sorted(DIGITAL_ONLY))
def test_a_parcel_is_never_delivered_without_shipping_nor_cancelled_once_delivered(from_status, to_status):
    parcel = order_in(from_status)
    with pytest.raises(Conflict) as err:
        orders.transition(parcel, to_status, actor="test", reason="support" if to_status == S.CANCELLED else "")
    assert err.value.code == "invalid_transition"
    assert Order.objects.get(pk=parcel.pk).status == from_status


@pytest.mark.parametrize(("method", "digital", "paid", "status"), [
    ("konbini", False, False, S.PENDING_PAYMENT), ("konbini", True, False, S.PENDING_PAYMENT),
    ("konbini", False, True, S.PROCESSING), ("konbini", True, True, S.DELIVERED),
    ("card", False, True, S.PROCESSING), ("card", True, True, S.DELIVERED),
    ("cod", False, False, S.PROCESSING), ("gift_card", True, True, S.DELIVERED),
])
def test_where_an_order_stands_once_nothing_holds_it(method, digital, paid, status):
    from shop.states import released_status

    assert released_status(method=method, digital=digital, paid=paid) == status
