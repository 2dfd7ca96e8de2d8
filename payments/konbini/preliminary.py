"""速報取消: the register voided a sale it had reported (issue 14, API.md "Konbini settlement").

A preliminary report (速報) only means the slip was scanned; the register can void the sale the
same day. Before shipment the order goes back to awaiting its payment — the same payment number
is payable again until deadline + grace, after which the expiry job cancels it
(``payment_expired``) as usual. After shipment (or once the order was cancelled and its money
refunded, or a digital order delivered) nothing can be undone: finance gets a case.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from backoffice.actors import Actor
from backoffice.errors import Conflict, NotFound
from backoffice.timeutil import local, now
from payments.konbini import cases
from payments.konbini.codes import chain_of, parse_number
from payments.konbini.models import PaymentCode, PaymentReceipt, SettlementCase
from payments.models import Payment
from payments.services import payment_status
from shop import events, scopes
from shop.models import Message, Order, OrderStatus
from shop.services import messages, orders

R = PaymentReceipt.Status


def _not_found() -> NotFound:
    return NotFound("このレシート番号の入金記録（速報）が見つかりません。", code="receipt_not_found",
                    field="receipt_number")


def _answer(receipt: PaymentReceipt, order: Order, payment: Payment, case: SettlementCase | None) -> dict:
    return {"status": "cancelled", "payment_number": receipt.code.number, "receipt_number": receipt.receipt_number,
            "order_status": order.status, "payment_status": payment.status,
            "finance_case": case.pk if case is not None else None}


def cancel_preliminary(*, scope: scopes.KonbiniScope, payment_number: object, receipt_number: str,
                       cancelled_at: datetime, actor) -> dict:
    """Void the chain's own preliminary report ``receipt_number`` of ``payment_number``. A repeat
    answers the same; a receipt the final report settled cannot be voided (409 ``already_settled``)."""
    chain = chain_of(scope.chain)
    number = parse_number(chain, payment_number)
    actor = Actor.of(actor)
    found = (scope.receipts().filter(code__number=number, receipt_number=receipt_number)
             .order_by("-id").values_list("pk", "payment__order_id").first())
    if found is None:
        raise _not_found()
    receipt_id, order_id = found
    at = now()
    with transaction.atomic():
        # The order row: the lock every payment writer takes first (not the customer's).
        order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order_id)
        receipt = scope.receipts().select_related("code", "payment").get(pk=receipt_id)
        payment = receipt.payment
        if receipt.status == R.CANCELLED:
            case = SettlementCase.objects.filter(dedupe_key=f"cancelled_after_shipment:{receipt.pk}").first()
            return _answer(receipt, order, payment, case)
        if receipt.status == R.SETTLED:
            raise Conflict("確報で入金が確定したお支払いは速報取消できません。", code="already_settled",
                           field="receipt_number")
        PaymentReceipt.objects.filter(pk=receipt.pk, status__still=R.REPORTED).update(status=R.CANCELLED,
                                                                              cancelled_at=cancelled_at)
        receipt.status = R.CANCELLED
        before_shipment = (order.status == OrderStatus.PROCESSING and payment.status == Payment.Status.PAID
                           and payment.refunded_amount == 0)
        case = None
        if before_shipment:
            _await_payment_again(order, payment, receipt, actor=actor)
        else:
            [case] = cases.open_cases([SettlementCase(
                kind=SettlementCase.Kind.CANCELLED_AFTER_SHIPMENT, chain=receipt.chain, day=local(receipt.paid_at).date(),
                payment_number=number, receipt_number=receipt.receipt_number, amount=receipt.amount,
                expected_amount=payment.amount, order=order, receipt=receipt,
                dedupe_key=f"cancelled_after_shipment:{receipt.pk}")], actor=actor, at=at) or [None]
        events.konbini_preliminary_cancelled(order=order, actor=actor, chain=receipt.chain,
                                             receipt_number=receipt.receipt_number, amount=receipt.amount,
                                             shipped=not before_shipment, at=at)
    return _answer(receipt, order, payment, case)


def _await_payment_again(order: Order, payment: Payment, receipt: PaymentReceipt, *, actor: Actor) -> None:
    """Undo the preliminary's writes through the state tables: code payable again, payment
    pending with nothing captured, order awaiting its payment."""
    if not PaymentCode.objects.filter(pk=receipt.code_id, status__still=PaymentCode.Status.PAID).update(
            status=PaymentCode.Status.LIVE):
        raise Conflict("お支払い番号の状態が他の操作で変更されました。", code="invalid_transition")
    payment_status.move(Payment.objects.filter(pk=payment.pk), from_status=Payment.Status.PAID,
                        to_status=Payment.Status.PENDING, captured_amount=0, paid_at=None)
    payment.status, payment.captured_amount, payment.paid_at = Payment.Status.PENDING, 0, None
    orders.transition(order, OrderStatus.PENDING_PAYMENT, actor=actor, cause="konbini_preliminary_cancelled",
                      chain=receipt.chain, receipt_number=receipt.receipt_number)
    messages.notify(customer=order.customer, kind=Message.Kind.PAYMENT_VOIDED, order=order,
                    dedupe_key=f"{Message.Kind.PAYMENT_VOIDED}:{receipt.pk}", context={
                        "chain_name": chain_of(receipt.chain).name, "payment_number": receipt.code.number,
                        "deadline": payment.deadline})
