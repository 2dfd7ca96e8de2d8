"""The chains' side: look a payment number up, then confirm the cash payment (SPEC §3, API.md).

Every check that needs no database comes first (number length and Luhn digit, the 8888 check
code), so a mistyped number is refused before any lookup. The confirmation itself runs in one
transaction holding the order's row lock — the same lock the expiry job takes with
``skip_locked`` — so a payment racing the expiry ends paid or cancelled, never both.
A confirmation is idempotent: the same receipt number gets the same answer and one payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from backoffice.errors import Conflict, Gone, InvalidInput, NotFound
from backoffice.normalize import digits
from backoffice.timeutil import local, now
from payments.konbini.chains import Chain
from payments.konbini.codes import chain_of, parse_number
from payments.konbini.models import PaymentCode, PaymentReceipt
from payments.models import Payment
from shop.models import CancellationReason, Order, OrderStatus
from shop.services import messages, orders

# Decision: a chain's clock may run a little ahead of ours; a paid_at further in the future is
# a wrong value, not a payment.
PAID_AT_MAX_CLOCK_SKEW = timedelta(minutes=10)


def late_payment_grace() -> timedelta:
    """SPEC §3 / seed 003 (支払い期限を少し過ぎても間に合う場合もある): the setting, read per call."""
    return settings.KONBINI_LATE_PAYMENT_GRACE


def payable_until(payment: Payment) -> datetime:
    """The last moment a confirmation is accepted: deadline + late-payment grace."""
    return payment.deadline + late_payment_grace()


@dataclass(frozen=True)
class CashPayment:
    """What the chain reports for one payment at its register."""

    amount: int
    store_code: str
    paid_at: datetime
    receipt_number: str


def check_code(chain: Chain, raw: object) -> None:
    """Loppi / Famiポート chains need the 確認番号 8888, which people forget (seed 003)."""
    if chain.check_code is None:
        return  # Seven-Eleven, Seicomart, Daily Yamazaki have none; whatever is sent is ignored
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(
            f"確認番号が入力されていません。{chain.terminal}ではお支払い番号の入力後に、"
            f"確認番号「{chain.check_code}」を入力してください。",
            code="check_code_required", field="check_code",
        )
    wrong = f"確認番号が正しくありません。確認番号は「{chain.check_code}」を入力してください。"
    if digits(raw, field="check_code", code="check_code_invalid", message=wrong) != chain.check_code:
        raise InvalidInput(wrong, code="check_code_invalid", field="check_code")


def _expired(payment: Payment) -> Gone:
    return Gone(
        f"お支払い期限（{local(payment.deadline):%Y年%-m月%-d日 %H:%M}）を過ぎたため、"
        "このお支払い番号ではお支払いいただけません。ご注文は自動的にキャンセルされます。",
        code="payment_expired", field="payment_number",
    )


def _cancelled() -> Gone:
    return Gone("このご注文はキャンセルされたため、お支払いいただけません。", code="payment_expired",
                field="payment_number")


def _find(chain: Chain, number: str) -> PaymentCode:
    """The chain's live or paid code with this number; a voided one tells why it is dead.
    Another chain's code is simply not found (API.md: its existence must not leak)."""
    code = (PaymentCode.objects.select_related("payment__order")
            .filter(chain=chain.code, number=number).exclude(status=PaymentCode.Status.VOID).first())
    if code is not None:
        return code
    void = (PaymentCode.objects.select_related("payment__order")
            .filter(chain=chain.code, number=number, status=PaymentCode.Status.VOID)
            .order_by("-created_at", "-id").first())
    if void is not None and void.payment.order.status == OrderStatus.CANCELLED:
        expired = void.payment.order.cancellation_reason == CancellationReason.PAYMENT_EXPIRED
        raise _expired(void.payment) if expired else _cancelled()
    if void is not None:
        raise NotFound(f"この{chain.number_name}は、お支払い先のコンビニが変更されたため無効です。",
                       code="payment_not_found", field="payment_number")
    raise NotFound(f"{chain.number_name}が見つかりません。番号をお確かめください。",
                   code="payment_not_found", field="payment_number")


def _lock_order(chain: Chain, number: str) -> Order:
    """Find the order of the chain's live or paid code and lock its row, in one statement.

    The order row is the lock every writer of this payment takes first (issue, expiry, cancel,
    confirm), so once we hold it the order's status is current; the joined payment and code
    columns (``code_id``, ``code_status``) may predate a concurrent writer and are only trusted
    through conditional updates or a re-read.
    """
    order = (Order.objects.select_for_update(of=("self",)).select_related("customer", "payment")
             .filter(payment__konbini_codes__chain=chain.code, payment__konbini_codes__number=number,
                     payment__konbini_codes__status__in=[PaymentCode.Status.LIVE, PaymentCode.Status.PAID])
             .annotate(code_id=F("payment__konbini_codes__id"), code_status=F("payment__konbini_codes__status"))
             .first())
    if order is None:
        _find(chain, number)  # raises the right error for a voided or unknown number
        raise NotFound(f"{chain.number_name}が見つかりません。", code="payment_not_found", field="payment_number")
    return order


def _status_of(payment: Payment, order: Order, at: datetime) -> str:
    if payment.status == Payment.Status.PAID:
        return "paid"
    if order.status == OrderStatus.CANCELLED or payment.status == Payment.Status.VOIDED:
        expired = order.cancellation_reason == CancellationReason.PAYMENT_EXPIRED
        raise _expired(payment) if expired else _cancelled()
    if at > payable_until(payment):
        raise _expired(payment)
    return "pending"


def lookup(*, chain_code: str, payment_number: object, check_code_value: object = None) -> dict:
    """``POST /konbini/payments/lookup``: amount, deadline and status of a payable number."""
    chain = chain_of(chain_code)
    number = parse_number(chain, payment_number)
    check_code(chain, check_code_value)
    code = _find(chain, number)
    payment = code.payment
    status = _status_of(payment, payment.order, now())
    return {"payment_number": code.number, "chain": chain.code, "amount": payment.amount,
            "deadline": local(payment.deadline).isoformat(), "status": status}


def _receipt_body(receipt: PaymentReceipt, number: str) -> dict:
    return {"status": "paid", "payment_number": number, "amount": receipt.amount,
            "receipt_number": receipt.receipt_number, "store_code": receipt.store_code,
            "paid_at": local(receipt.paid_at).isoformat()}


def confirm(*, chain_code: str, payment_number: object, check_code_value: object, cash: CashPayment,
            actor: str, partner=None) -> dict:
    """``POST /konbini/payments/confirm``: record the cash, move the order on, tell the customer.

    All in one transaction with the order row locked. A repeat with the same receipt number
    answers the same; another receipt for a paid number is 409 ``already_paid``.
    """
    chain = chain_of(chain_code)
    number = parse_number(chain, payment_number)
    check_code(chain, check_code_value)
    at = now()
    if cash.paid_at > at + PAID_AT_MAX_CLOCK_SKEW:
        raise InvalidInput("paid_at が未来の日時です。", code="invalid", field="paid_at")
    with transaction.atomic():
        order = _lock_order(chain, number)
        if order.status != OrderStatus.PENDING_PAYMENT or order.code_status != PaymentCode.Status.LIVE:
            return _settled(chain, order, cash, at)  # paid, cancelled or on hold: re-read and answer
        payment = order.payment  # pending (the order awaits payment); amount and deadline never change
        _status_of(payment, order, at)  # 410 past deadline + grace
        if cash.amount != payment.amount:
            raise Conflict(f"お支払い金額が一致しません。請求額は{payment.amount:,}円です。",
                           code="amount_mismatch", field="amount")
        # Conditional: a code voided by a chain switch after our snapshot is not paid.
        if not PaymentCode.objects.filter(pk=order.code_id, status=PaymentCode.Status.LIVE).update(
                status=PaymentCode.Status.PAID):
            raise NotFound(f"この{chain.number_name}は無効です。", code="payment_not_found", field="payment_number")
        receipt = PaymentReceipt.objects.create(
            payment=payment, code_id=order.code_id, chain=chain.code, receipt_number=cash.receipt_number,
            store_code=cash.store_code, amount=cash.amount, paid_at=cash.paid_at,
            late=at > payment.deadline, partner=partner, recorded_at=at,
        )
        orders.mark_paid(order, amount=cash.amount, actor=actor)
        note = f"コンビニ入金 {chain.name} 店舗{cash.store_code} レシート{cash.receipt_number}"
        if receipt.late:
            note += "（期限後の猶予内）"
        orders.transition(order, OrderStatus.DELIVERED if order.is_digital else OrderStatus.PROCESSING,
                          actor=actor, note=note)
        messages.notify(customer=order.customer, kind="payment_received", order=order)
    return _receipt_body(receipt, number)


def _settled(chain: Chain, order: Order, cash: CashPayment, at: datetime) -> dict:
    """The order no longer awaits this payment: answer from a fresh read (under the lock)."""
    code = PaymentCode.objects.select_related("payment").get(pk=order.code_id)
    payment = code.payment
    if payment.status == Payment.Status.PAID:
        receipt = PaymentReceipt.objects.filter(payment=payment).first()
        if receipt is not None and receipt.receipt_number == cash.receipt_number and receipt.code_id == code.pk:
            return _receipt_body(receipt, code.number)  # the same receipt again: the same answer
        raise Conflict("このお支払い番号は既にお支払い済みです（別のレシートで入金済み）。二重のお支払いにご注意ください。",
                       code="already_paid", field="receipt_number")
    if code.status == PaymentCode.Status.VOID and order.status != OrderStatus.CANCELLED:
        raise NotFound(f"この{chain.number_name}は無効です。", code="payment_not_found", field="payment_number")
    _status_of(payment, order, at)  # 410 when cancelled or past deadline + grace
    raise Conflict("このご注文は現在お支払いを受け付けていません。", code="not_pending_payment")
