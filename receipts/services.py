"""Issuing receipts (領収書 / 適格請求書): the one place that writes them.

The storefront's ``GET /orders/{n}/receipt`` and ``receipt.json`` and the staff console's
「領収書を発行」 all call ``issue``; the staff confirm page shows ``plan`` (original or 再発行)
from the same code. Issues of one order are serialised by the order's row lock, so two at once
are the original and one 再発行, never two originals (the database's unique (receipt, sequence)
says so too).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.db import transaction

from backoffice.errors import Conflict, InvalidInput
from backoffice.timeutil import now
from payments.models import MONEY_RECEIVED, Payment, Refund, ReturnLine
from receipts import document, issuer
from receipts.models import RECEIPT_NUMBER_FORMAT, Receipt, ReceiptIssue
from shop.models import Customer, Order, OrderStatus
from shop.services.customers import CustomerClosed

# API.md: the addressee (宛名) is up to 40 characters; the 但し書き is held to the same.
ADDRESSEE_MAX_LENGTH = 40
PURPOSE_MAX_LENGTH = 40

Channel = ReceiptIssue.Channel


def _clean(value: str | None, *, default: str, field: str, what: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        return default
    if len(text) > max_length:
        raise InvalidInput("%(what)sは%(max_length)s文字以内で入力してください。",
                           params={"what": what, "max_length": max_length}, code=f"invalid_{field}", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidInput("%(what)sに使えない文字が含まれています。", params={"what": what}, code=f"invalid_{field}",
                           field=field)
    return text


def _check_issuable(order: Order, payment: Payment | None) -> None:
    """Paid (and possibly refunded since) → issuable; otherwise the API.md 409s. A closed account's
    orders get no receipt any more (seed 003: 退会後は領収書を印刷できない — the closure check warns)."""
    if order.customer.closed_at is not None:
        raise CustomerClosed()
    if payment is not None and payment.status in MONEY_RECEIVED:
        return
    if order.status == OrderStatus.CANCELLED or (payment is not None and payment.status == Payment.Status.VOIDED):
        raise Conflict("お支払い前にキャンセルされたご注文には領収書を発行できません。", code="not_issuable")
    raise Conflict("お支払いの確認後に領収書を発行できます。", code="not_paid")


def check_issuable(order: Order) -> None:
    """Raise the ``Conflict`` that ``issue`` would raise now (for a confirm page to say why)."""
    _check_issuable(order, getattr(order, "payment", None))


def issuable(order: Order) -> bool:
    """Whether ``issue`` would issue now (for a page that has the order and its payment loaded)."""
    try:
        _check_issuable(order, getattr(order, "payment", None))
    except Conflict:
        return False
    return True


@dataclass(frozen=True)
class Plan:
    """What the next issue of an order's receipt will be (the staff confirm page shows it)."""

    receipt_number: str | None  # None: the number is given at the first issue
    sequence: int
    default_addressee: str

    @property
    def reissue(self) -> bool:
        return self.sequence > 1


def plan(order: Order) -> Plan:
    """The next issue of ``order``'s receipt, or the same refusal ``issue`` would give."""
    _check_issuable(order, Payment.objects.filter(order=order).first())
    receipt = Receipt.objects.filter(order=order).first()
    return Plan(receipt_number=receipt.number if receipt else None,
                sequence=(receipt.issue_count if receipt else 0) + 1,
                default_addressee=document.default_addressee(order))


def issue(*, order: Order, channel: str, actor: str, addressee: str | None = None,
          purpose: str | None = None) -> ReceiptIssue:
    """Issue ``order``'s receipt once more (the first time as the original) and record it.

    ``addressee`` defaults to the customer's name + 様 and ``purpose`` (但し書き) to お品代として.
    Refused with 409 ``not_paid`` before payment and ``not_issuable`` for an order cancelled
    before payment; bad input is a 400; either way nothing is written."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        # Payment and receipt are read after the lock, in statements of their own: joined into the
        # locking statement they would come from its snapshot, taken before the wait — a receipt
        # created meanwhile would be missed (the PostgreSQL concurrency test shows it).
        payment = Payment.objects.filter(order=order).first()
        _check_issuable(order, payment)
        addressee = _clean(addressee, default=document.default_addressee(order), field="addressee", what="宛名",
                           max_length=ADDRESSEE_MAX_LENGTH)
        purpose = _clean(purpose, default=document.DEFAULT_PURPOSE, field="purpose", what="但し書き",
                         max_length=PURPOSE_MAX_LENGTH)
        receipt = Receipt.objects.filter(order=order).first()
        if receipt is None:
            receipt = Receipt.objects.create(order=order)
            receipt.number = RECEIPT_NUMBER_FORMAT.format(receipt.pk)
        receipt.issue_count += 1
        receipt.save(update_fields=["number", "issue_count"])
        issued_at = now()
        # Every refund reserves its amount on the payment when it is requested: none reserved, none to read.
        refunded = payment.refunded_amount > 0
        doc = document.build(
            order=order, lines=list(order.lines.order_by("id")), payment=payment,
            refunds=list(Refund.objects.filter(order=order).exclude(status=Refund.Status.FAILED)
                         .order_by("created_at", "id")) if refunded else [],
            returned_lines=_returned_lines(order) if refunded else {}, issuer=issuer.current(),
            receipt_number=receipt.number, issued_at=issued_at, reissue=receipt.issue_count > 1,
            addressee=addressee, purpose=purpose,
        )
        return ReceiptIssue.objects.create(
            receipt=receipt, sequence=receipt.issue_count, issued_at=issued_at, addressee=addressee,
            purpose=purpose, channel=channel, actor=actor, content=document.as_json(doc),
        )


def _returned_lines(order: Order) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    rows = (ReturnLine.objects.filter(return_request__order=order, return_request__refund__isnull=False)
            .values_list("return_request__refund_id", "order_line_id", "quantity"))
    for refund_id, line_id, quantity in rows:
        out.setdefault(refund_id, []).append((line_id, quantity))
    return out


# --- account closure (seed 003: 領収書を印刷する予定はないか) ----------------------------------

CLOSURE_WARNING_CODE = "receipts_unavailable_after_closure"
CLOSURE_WARNING_MESSAGE = ("アカウントを閉鎖すると、領収書を発行できなくなります。"
                           "必要な領収書は閉鎖の前に印刷してください。")


@dataclass(frozen=True)
class ClosureWarning:
    """The closure check's warning, shaped like its blockers: ``{code, message, order_numbers}``."""

    code: str
    message: str
    order_numbers: list[str]

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "order_numbers": self.order_numbers}


def closure_warning(customer: Customer) -> ClosureWarning | None:
    """For the account-closure check: the orders a receipt can still be issued for, newest first,
    with the seed's warning; None when there is none (nothing would be lost)."""
    numbers = list(Order.objects.filter(customer=customer, payment__status__in=MONEY_RECEIVED)
                   .order_by("-placed_at", "-id").values_list("number", flat=True))
    if not numbers:
        return None
    return ClosureWarning(code=CLOSURE_WARNING_CODE, message=CLOSURE_WARNING_MESSAGE, order_numbers=numbers)
