"""The one cancellation core (SPEC §2, §3, §4): every caller cancels through ``cancel_orders``.

The storefront API, the staff console and admin, the account-protection playbook, risk rejection,
carrier refusals and returns, and both expiry jobs call the same function; the single-order
operation is the batch operation called with one id (Zulip's ``do_delete_messages``, Saleor's
``deallocate_stock_for_orders``). In the caller's transaction, with the orders' row locks held,
it does everything a cancellation means, set-based:

- the status moves to ``cancelled`` through the state table (conditional UPDATE: an order that
  moved meanwhile fails the whole batch), with one ``status_changed`` event per order;
- the reserved units go back to stock where ``shop.states.restocks`` says so;
- an unpaid payment is voided and its live konbini codes die; a parcel waiting at a konbini
  is closed and its pickup tickets voided (the keys stop working at once);
- whatever was captured is refunded (one ``Refund`` per order, cause ``cancel``), the refund's
  processing queued through the outbox;
- the customer's ``cancelled`` message is written (the relay e-mails it).

``plan`` computes what it will do, order by order, from the same reads; the staff confirm page
shows that plan, never a restatement of the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from backoffice.actors import Actor
from backoffice.errors import Conflict
from backoffice.timeutil import now
from payments.konbini.models import PaymentCode
from payments.models import Payment, Refund
from payments.services import refunds
from pickup.models import Pickup, PickupTicket
from shop import events, states
from shop.models import CancellationReason, Order, OrderStatus, PaymentMethod
from shop.services import messages, stock
from webhooks.emit import emit_many

S = OrderStatus


@dataclass
class CancelPlan:
    """What cancelling one order for ``reason`` does (``plan``); ``cancel_orders`` executes it."""

    order_id: int
    number: str
    customer_id: int
    customer_name: str
    from_status: str
    digital: bool
    reason: str
    allowed: bool
    restock: bool = False
    payment_id: int | None = None
    payment_method: str = ""
    void_payment: bool = False  # an unpaid payment is voided
    refund_amount: int = 0  # what was captured and not yet refunded
    refund_method: str = ""
    codes: list[str] = field(default_factory=list)  # live konbini payment numbers that die
    pickup_id: int | None = None  # a parcel ready at a konbini: closed, its tickets voided

    def refusal(self) -> Conflict:
        if self.from_status == S.CANCELLED:
            return Conflict("この注文は既にキャンセルされています。", code="not_cancellable")
        if self.from_status not in states.NOT_YET_SHIPPED:
            return Conflict("発送済みのご注文はキャンセルできません。", code="not_cancellable")
        return Conflict(
            "「%(status)s」の注文は「%(reason)s」でキャンセルできません。",
            params={"status": S(self.from_status).label, "reason": CancellationReason(self.reason).label},
            code="not_cancellable")


@dataclass
class CancelResult:
    cancelled: list[int] = field(default_factory=list)
    refunds: Sequence[Refund] = field(default_factory=list)  # built on access (``bulksql.instances``)
    plans: dict[int, CancelPlan] = field(default_factory=dict)


class _Payment:
    """The few payment fields ``refunds.methods_for`` reads."""

    def __init__(self, pk: int, order_id: int, method: str) -> None:
        self.pk, self.order_id, self.method = pk, order_id, method


def plan(order_ids, *, reason: str, lock_payments: bool = False, codes: bool = True) -> dict[int, CancelPlan]:
    """The plan of each order (by id). ``order_ids`` may be a queryset of orders instead (an
    expiry batch's ``select_for_update(skip_locked=True)``: the orders are locked and read in one
    statement; one another transaction holds is not in the plan). ``lock_payments`` (the core) reads the payments with money
    to refund under their row lock, so the refundable amount cannot change before the refund
    reserves it. ``codes`` lists the konbini numbers that die (for a confirm page; the core voids
    every live code of a voided payment without listing them)."""
    reason = CancellationReason(reason)
    orders = (order_ids if isinstance(order_ids, QuerySet)
              else Order.objects.filter(pk__anyof=sorted(set(order_ids))))
    # One read: the orders with their customer's name and their payment (a LEFT JOIN).
    rows = list(orders.order_by("pk").values_list(
        "pk", "number", "customer_id", "customer__name", "status", "is_digital", "payment__pk", "payment__method",
        "payment__status", "payment__captured_amount", "payment__refunded_amount"))
    plans = {
        pk: CancelPlan(order_id=pk, number=number, customer_id=customer_id, customer_name=name, from_status=status,
                       digital=digital, reason=reason, allowed=states.cancellable(reason, status, digital=digital),
                       restock=states.restocks(reason, status))
        for pk, number, customer_id, name, status, digital, *_ in rows
    }
    fields = ("pk", "order_id", "method", "status", "captured_amount", "refunded_amount")
    payment_rows = [(row[6], row[0], *row[7:]) for row in rows if row[6] is not None]
    if lock_payments and any(p[4] > p[5] for p in payment_rows):
        # Lock the payments that have money to refund and read their amounts again under the lock
        # (a concurrent partial refund may have reserved some); an unpaid batch locks nothing more.
        locked = {p[0]: p for p in Payment.objects.select_for_update().filter(
            pk__anyof=[p[0] for p in payment_rows if p[4] > p[5]]).order_by("pk").values_list(*fields)}
        payment_rows = [locked.get(p[0], p) for p in payment_rows]
    refundable = [p for p in payment_rows if p[4] - p[5] > 0]
    methods = refunds.methods_for(_Payment(pk, order_id, method) for pk, order_id, method, *_ in refundable)
    for pk, order_id, method, status, captured, refunded in payment_rows:
        p = plans[order_id]
        p.payment_id, p.payment_method = pk, method
        p.void_payment = status == Payment.Status.PENDING
        p.refund_amount = max(captured - refunded, 0)
        p.refund_method = methods.get(pk, "")
    by_payment = {p.payment_id: p for p in plans.values() if p.void_payment} if codes else {}
    if by_payment:
        for payment_id, number in PaymentCode.objects.filter(
                payment_id__anyof=list(by_payment), status=PaymentCode.Status.LIVE).values_list("payment_id", "number"):
            by_payment[payment_id].codes.append(number)
    at_store = [pk for pk, p in plans.items() if p.from_status == S.READY_FOR_PICKUP]
    if at_store:
        for order_id, pickup_id in Pickup.objects.filter(order_id__anyof=at_store, status=Pickup.Status.READY).values_list(
                "order_id", "pk"):
            plans[order_id].pickup_id = pickup_id
    return plans


def plan_cancel(order: Order, *, reason: str) -> CancelPlan:
    """The plan of one order, for a confirm page."""
    return plan([order.pk], reason=reason)[order.pk]


def cancel_orders(order_ids, *, reason: str, actor, note: str = "", details: dict | None = None,
                  details_of: dict[int, dict] | None = None, at: datetime | None = None,
                  bulk_messages: bool = False) -> CancelResult:
    """Cancel these orders for ``reason``; the caller holds their row locks in its transaction
    (or ``order_ids`` is a queryset that locks them, see ``plan``).

    Refuses (``not_cancellable``, nothing written) if any of them may not be cancelled for this
    reason. ``details`` go on each cancellation event (a carrier's location, a report's id...),
    ``details_of`` per order (a parcel's inquiry number);
    ``bulk_messages`` marks the cancellation e-mails as a batch's (sent after the ones people wait for).
    """
    at = at or now()
    actor = Actor.of(actor)
    result = CancelResult()
    with transaction.atomic():
        plans = plan(order_ids, reason=reason, lock_payments=True, codes=False)
        for p in plans.values():
            if not p.allowed:
                raise p.refusal()
        if not plans:
            return result
        ids = list(plans)
        by_status: dict[str, list[int]] = defaultdict(list)
        for p in plans.values():
            by_status[p.from_status].append(p.order_id)
        for from_status, group in by_status.items():
            moved = Order.objects.filter(pk__anyof=group, status=from_status).update(
                status=S.CANCELLED, cancellation_reason=reason, updated_at=at)
            if moved != len(group):  # another writer got there first (without the lock)
                raise Conflict("注文の状態が他の操作で変更されました。", code="invalid_transition")
        stock.release([p.order_id for p in plans.values() if p.restock])
        payment_ids = [p.payment_id for p in plans.values() if p.void_payment]
        if payment_ids:
            Payment.objects.filter(pk__anyof=payment_ids, status=Payment.Status.PENDING).update(
                status=Payment.Status.VOIDED)
            if any(p.payment_method == PaymentMethod.KONBINI for p in plans.values() if p.void_payment):
                PaymentCode.objects.filter(payment_id__anyof=payment_ids, status=PaymentCode.Status.LIVE).update(
                    status=PaymentCode.Status.VOID, voided_at=at)
        pickup_ids = [p.pickup_id for p in plans.values() if p.pickup_id]
        if pickup_ids:
            closed = Pickup.Status.EXPIRED if reason == CancellationReason.PICKUP_EXPIRED else Pickup.Status.CANCELLED
            Pickup.objects.filter(pk__anyof=pickup_ids, status=Pickup.Status.READY).update(status=closed, closed_at=at)
            PickupTicket.objects.filter(pickup_id__anyof=pickup_ids, voided_at__isnull=True,
                                        redeemed_at__isnull=True).update(voided_at=at)
        events.insert_cancelled_many(
            [(p.order_id, p.from_status) for p in plans.values()], reason=reason, actor=actor, note=note, at=at,
            details=details, details_of=details_of)
        # What was captured goes back (one refund per order, cause ``cancel``): the refunds service's
        # one write path, on the payments locked above.
        result.refunds = refunds.request_many(
            [refunds.RefundRequest(p.order_id, p.payment_id, p.refund_amount, p.refund_method)
             for p in plans.values() if p.refund_amount > 0],
            cause=refunds.CANCEL_CAUSE, reason=reason, actor=actor, at=at, whole=True)
        refunded = {p.order_id for p in plans.values() if p.refund_amount > 0}  # each got its refund, or we raised
        messages.notify_cancelled_in_bulk(
            [messages.CancelledOrder(p.order_id, p.number, p.customer_id, p.customer_name,
                                     refunded=p.order_id in refunded) for p in plans.values()],
            reason=CancellationReason(reason), at=at, bulk=bulk_messages)
        # Webhooks: one call for the batch, one query when nobody subscribes (the codes that died
        # are read only if a chain listens).
        emit_many({"order.cancelled": ids,
                   "payment_code.voided": PaymentCode.objects.filter(
                       payment_id__anyof=payment_ids, status=PaymentCode.Status.VOID, voided_at=at).values_list(
                       "pk", flat=True)})
        result.cancelled, result.plans = ids, plans
    return result


def cancel_allowed(order_ids, *, reason: str, actor, note: str = "") -> tuple[CancelResult, list[CancelPlan]]:
    """A staff bulk cancel (the admin's action through the console's confirm page): lock the
    orders in primary-key order, cancel those the reason allows, return the others' plans."""
    with transaction.atomic():
        locked = list(Order.objects.select_for_update().filter(pk__in=list(order_ids)).order_by("pk")
                      .values_list("pk", flat=True))
        plans = plan(locked, reason=reason)
        refused = [p for p in plans.values() if not p.allowed]
        result = cancel_orders([pk for pk, p in plans.items() if p.allowed], reason=reason, actor=actor, note=note)
    return result, refused
