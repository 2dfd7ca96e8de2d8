"""What a receipt states, computed once from the order and used by both the PDF and the JSON.

Lines carry the rate copied onto the order line at placement; the totals per rate and their tax
come from ``shop.tax`` (rounded down once per rate per document). Refunds are shown as what was
returned at each rate and the tax in it (適格返還請求書): a return of named lines is split by
those lines' rates; a refund that names no lines (a cancellation, a return by amount) is split in
proportion to what was still unrefunded at each rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.timeutil import local
from payments.models import Payment, Refund
from receipts.issuer import Issuer
from shop.models import Order, OrderLine
from shop.tax import RATES, RateTotal, allocate, tax_included, totals_by_rate

# 但し書き when nobody names one: what the money was for.
DEFAULT_PURPOSE = "お品代として"
# The addressee when the customer names none: their name and the honorific 様 (API.md).
ADDRESSEE_HONORIFIC = "様"


@dataclass(frozen=True)
class Line:
    sku: str
    title: str
    quantity: int
    unit_price: int
    tax_rate: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class RefundPart:
    """The part of one refund at one rate: the amount returned and the tax in it."""

    amount: int
    tax_rate: int
    tax: int
    refunded_at: datetime


@dataclass(frozen=True)
class ReceiptDocument:
    receipt_number: str
    issued_at: datetime
    reissue: bool
    issuer: Issuer
    addressee: str
    purpose: str
    order_number: str
    lines: list[Line]
    totals: list[RateTotal]
    total: int
    paid_at: datetime | None
    payment_method: str
    payment_method_label: str
    refunds: list[RefundPart]


def default_addressee(order: Order) -> str:
    return f"{order.customer.name} {ADDRESSEE_HONORIFIC}"


def refund_parts(lines: list[OrderLine], refunds: list[Refund],
                 returned_lines: dict[int, list[tuple[int, int]]]) -> list[RefundPart]:
    """Each succeeded refund split by rate.

    ``refunds`` are the order's refunds that have not failed, oldest first; ``returned_lines``
    maps a refund's id to the ``(order line id, quantity)`` its return named, if it named any.
    Refunds still in flight are not shown but are counted, so a refund's split never changes
    once it is made."""
    left = {rate: 0 for rate in RATES}
    for line in lines:
        left[line.tax_rate] += line.subtotal
    by_id = {line.pk: line for line in lines}
    parts: list[RefundPart] = []
    for refund in refunds:
        named = returned_lines.get(refund.pk)
        if named:
            split: dict[int, int] = {}
            for line_id, quantity in named:
                line = by_id[line_id]
                split[line.tax_rate] = split.get(line.tax_rate, 0) + line.unit_price * quantity
        else:
            split = allocate(refund.amount, left)
        for rate, amount in split.items():
            left[rate] -= amount
        if refund.status != Refund.Status.SUCCEEDED:
            continue
        when = refund.completed_at or refund.updated_at
        parts.extend(RefundPart(amount=split[rate], tax_rate=rate, tax=tax_included(split[rate], rate),
                                refunded_at=when) for rate in RATES if split.get(rate))
    return parts


def build(*, order: Order, lines: list[OrderLine], payment: Payment, refunds: list[Refund],
          returned_lines: dict[int, list[tuple[int, int]]], issuer: Issuer, receipt_number: str,
          issued_at: datetime, reissue: bool, addressee: str, purpose: str) -> ReceiptDocument:
    doc_lines = [Line(sku=line.sku, title=line.title, quantity=line.quantity, unit_price=line.unit_price,
                      tax_rate=line.tax_rate) for line in lines]
    return ReceiptDocument(
        receipt_number=receipt_number, issued_at=issued_at, reissue=reissue, issuer=issuer,
        addressee=addressee, purpose=purpose, order_number=order.number, lines=doc_lines,
        totals=totals_by_rate((line.tax_rate, line.amount) for line in doc_lines),
        total=sum(line.amount for line in doc_lines), paid_at=payment.paid_at, payment_method=payment.method,
        payment_method_label=payment.get_method_display(), refunds=refund_parts(lines, refunds, returned_lines),
    )


def _iso(value: datetime | None) -> str | None:
    return local(value).isoformat() if value is not None else None


def as_json(doc: ReceiptDocument) -> dict:
    """The API.md ``receipt.json`` shape (plus ``order_number``, ``purpose`` and the method's label)."""
    return {
        "receipt_number": doc.receipt_number,
        "issued_at": _iso(doc.issued_at),
        "reissue": doc.reissue,
        "issuer": {"name": doc.issuer.name, "registration_number": doc.issuer.registration_number},
        "addressee": doc.addressee,
        "purpose": doc.purpose,
        "order_number": doc.order_number,
        "lines": [{"sku": line.sku, "title": line.title, "quantity": line.quantity, "unit_price": line.unit_price,
                   "tax_rate": line.tax_rate} for line in doc.lines],
        "totals": [{"tax_rate": t.tax_rate, "amount_incl_tax": t.amount_incl_tax, "tax": t.tax} for t in doc.totals],
        "total": doc.total,
        "paid_at": _iso(doc.paid_at),
        "payment_method": doc.payment_method,
        "payment_method_label": doc.payment_method_label,
        "refunds": [{"amount": r.amount, "tax_rate": r.tax_rate, "tax": r.tax, "refunded_at": _iso(r.refunded_at)}
                    for r in doc.refunds],
    }
