"""Refunds that run exactly once (SPEC §3).

``request_*`` reserve the amount on the payment with a conditional update (never more than
captured − refunded, under any concurrency) and create the refund once per cause (a unique
constraint); processing happens in Celery after commit and is idempotent.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from backoffice.errors import Conflict
from backoffice.timeutil import now
from payments import giftcards
from payments.gateway import GatewayError, get_gateway
from payments.models import GiftCardEntry, Payment, Refund
from shop import events
from shop.models import Order, PaymentMethod


def method_for(payment: Payment) -> str:
    """Card → the card; gift card → the balance; konbini cash and COD → the customer's choice,
    by default the gift-card balance (SPEC §3)."""
    if payment.method == PaymentMethod.CARD:
        return Refund.Method.CARD
    return Refund.Method.GIFT_CARD


def request(*, order: Order, amount: int, cause: str, reason: str, actor: str) -> Refund:
    """Create the refund for ``cause`` once; a repeated request returns the first refund."""
    with transaction.atomic():
        existing = Refund.objects.filter(order=order, cause=cause).first()
        if existing is not None:
            return existing
        payment = Payment.objects.get(order=order)
        try:
            with transaction.atomic():
                refund = Refund.objects.create(
                    order=order, payment=payment, amount=amount, method=method_for(payment), reason=reason, cause=cause
                )
        except IntegrityError:
            return Refund.objects.get(order=order, cause=cause)
        reserved = Payment.objects.filter(
            pk=payment.pk, captured_amount__gte=F("refunded_amount") + amount
        ).update(refunded_amount=F("refunded_amount") + amount)
        if not reserved:
            raise Conflict("返金額が返金可能額を超えています。", code="refund_exceeds_captured", field="amount")
        events.note(order=order, kind="refund_requested", actor=actor,
                    note=f"返金受付 {amount:,}円（{refund.get_method_display()}）")
        transaction.on_commit(lambda: _enqueue(refund.pk))
    return refund


def request_for_cancellation(*, order: Order, actor: str) -> Refund | None:
    """Refund whatever is still refundable when a paid order is cancelled (cause ``cancel``)."""
    payment = Payment.objects.filter(order=order).first()
    if payment is None or payment.refundable <= 0:
        return None
    return request(order=order, amount=payment.refundable, cause="cancel", reason=order.cancellation_reason, actor=actor)


def _enqueue(refund_id: int) -> None:
    from payments.tasks import process_refund

    process_refund.delay(refund_id)


def process(refund_id: int) -> Refund:
    """Move the money for one refund, once. Safe to call twice or concurrently."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("order__customer", "payment").get(pk=refund_id)
        if refund.status in (Refund.Status.SUCCEEDED, Refund.Status.FAILED):
            return refund
        refund.attempts += 1
        if refund.method == Refund.Method.GIFT_CARD:
            giftcards.credit(customer=refund.order.customer, amount=refund.amount, kind=GiftCardEntry.Kind.REFUND,
                             reference=f"refund:{refund.pk}", order=refund.order)
        elif refund.method == Refund.Method.CARD:
            try:
                refund.gateway_reference = get_gateway().refund(
                    charge_reference=refund.payment.gateway_reference, amount=refund.amount,
                    idempotency_key=f"refund:{refund.pk}",
                )
            except GatewayError as exc:
                refund.last_error = str(exc)[:300]
                refund.status = Refund.Status.PROCESSING if exc.transient else Refund.Status.FAILED
                refund.save(update_fields=["attempts", "last_error", "status"])
                raise
        else:
            refund.save(update_fields=["attempts"])
            return refund
        _complete(refund)
    return refund


def _complete(refund: Refund) -> None:
    from shop.services import messages

    refund.status = Refund.Status.SUCCEEDED
    refund.completed_at = now()
    refund.save(update_fields=["status", "completed_at", "attempts", "gateway_reference"])
    events.note(order=refund.order, kind="refund_succeeded", actor="system",
                note=f"返金完了 {refund.amount:,}円（{refund.get_method_display()}）")
    messages.notify(customer=refund.order.customer, kind="refund_completed", order=refund.order,
                    context={"refund": refund}, dedupe_key=f"refund_completed:{refund.pk}")
