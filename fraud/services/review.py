"""The review queue: staff approve or reject an order held by the risk score (SPEC §5).

Both take the order's row lock and act only on an order still ``on_hold``: when two agents
decide the same order at once, the first wins and the second gets ``already_reviewed``.
"""

from __future__ import annotations

from django.db import transaction

from backoffice.errors import Conflict
from backoffice.timeutil import now
from fraud.models import OPEN_REPORT_STATUSES, ReportType
from fraud.services import reports
from payments.konbini.chains import payment_deadline
from payments.models import MONEY_RECEIVED, Payment
from shop import states
from shop.models import CancellationReason, Order, OrderStatus
from shop.services import messages
from shop.services import orders as order_service

S = OrderStatus


def held_orders():
    return (Order.objects.filter(status=S.ON_HOLD).select_related("customer", "payment")
            .order_by("-risk_score", "placed_at", "id"))


def status_after_approval(order: Order) -> str:
    """The status the order would have had without the hold (``shop.states.released_status``)."""
    paid = Payment.objects.filter(order=order, status__in=MONEY_RECEIVED).exists()
    return states.released_status(method=order.payment_method, digital=order.is_digital, paid=paid)


def _lock_held(order: Order) -> Order:
    order = Order.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if order.status != S.ON_HOLD:
        raise Conflict("この注文は既に審査済みです（現在の状態：%(status)s）。", params={"status": S(order.status).label},
                       code="already_reviewed")
    return order


def approve(order: Order, *, actor, note: str = "") -> Order:
    """Release a held order to the status it would have had. A konbini order's 6-day payment
    deadline starts now (the customer could not pay while it was held) and the payment
    instructions go out now."""
    with transaction.atomic():
        order = _lock_held(order)
        target = status_after_approval(order)
        if target == S.PENDING_PAYMENT:
            Payment.objects.filter(order=order, status__still=Payment.Status.PENDING).update(
                deadline=payment_deadline(now()))
        order_service.transition(order, target, actor=actor, cause="review_approved", note=note)
        if target == S.PENDING_PAYMENT:
            payment = Payment.objects.get(order=order)
            messages.notify(customer=order.customer, kind="payment_instructions", order=order,
                            context={"deadline": payment.deadline})
        note_decision(order, "order_approved", actor, f"注文 {order.number} を承認（→ {S(target).label}）")
    return order


def reject(order: Order, *, actor, note: str = "") -> Order:
    """Cancel a held order (``risk_rejected``): stock released, a paid order refunded."""
    with transaction.atomic():
        order = _lock_held(order)
        order_service.cancel(order, reason=CancellationReason.RISK_REJECTED, actor=actor, note=note)
        order.refresh_from_db()
        note_decision(order, "order_rejected", actor, f"注文 {order.number} を却下（キャンセル）")
    return order


def note_decision(order: Order, kind: str, actor, note: str) -> None:
    """Put the decision on the order's open risk-review reports and tick their checklist item."""
    for report in reports.for_order(order, type=ReportType.RISK_REVIEW).filter(status__in=OPEN_REPORT_STATUSES):
        reports.record(report, kind, actor, note, order=order)
        reports.complete_check(report, code="decided_order", actor=actor)
