"""Reads of payments.konbini for other apps' pages and the API order resource."""

from __future__ import annotations

from payments.konbini.models import PaymentCode


def order_konbini_code(order) -> dict | None:
    """``payment.konbini`` of the API order resource: the live or paid code, else None.

    Reads ``payment.konbini_codes.all()``, which ``shop.selectors.order_queryset`` prefetches,
    so the order resource stays constant-query.
    """
    payment = getattr(order, "payment", None)
    if payment is None:
        return None
    shown = [c for c in payment.konbini_codes.all() if c.status != PaymentCode.Status.VOID]
    if not shown:
        return None
    code = max(shown, key=lambda c: (c.created_at, c.pk))
    return {"chain": code.chain, "payment_number": code.number, "check_code": code.check_code or None,
            "status": code.status}
