"""The payment status machine applied (``shop.states.PAYMENT_TRANSITIONS``, issue 14).

One function moves payments from one status to another with a conditional UPDATE: only rows still
in ``from_status`` move, and the table refuses anything it does not list. The caller writes the
order events (the payment has no timeline of its own)."""

from __future__ import annotations

from django.db.models import QuerySet

from backoffice.errors import Conflict
from payments.models import Payment
from shop import states


def move(payments: QuerySet[Payment], *, from_status: str, to_status: str, **fields) -> int:
    """Move the payments of ``payments`` still in ``from_status`` to ``to_status`` (and set
    ``fields``); returns how many moved."""
    if not states.payment_allowed(from_status, to_status):
        raise Conflict("支払いの状態を「%(from)s」から「%(to)s」に変更できません。",
                       params={"from": Payment.Status(from_status).label, "to": Payment.Status(to_status).label},
                       code="invalid_transition")
    return payments.filter(status=from_status).update(status=to_status, **fields)
