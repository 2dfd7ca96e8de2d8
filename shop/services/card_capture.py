"""The card gateway calls of an order (SPEC §2: a card is captured at placement).

The order services own the orchestration (``orders.place``, ``orders.cancel_abandoned_card_orders``);
this module only captures and voids, each under an idempotency key derived from the order, so a
retry — of a lost answer, of the sweep — never moves money twice. Call it with no transaction
open: a slow gateway must not hold any row.
"""

from __future__ import annotations

from payments.gateway import GatewayError, get_gateway
from shop.models import Order

# Decision (not in the seeds): a transient gateway error is retried once more with the same
# idempotency key, so a capture whose answer was lost is found again instead of taken twice.
CARD_CAPTURE_ATTEMPTS = 2


def capture_key(order: Order) -> str:
    """The gateway idempotency key of the order's card capture (order numbers are never reused)."""
    return f"capture:{order.number}"


def capture(order: Order, card_token: str) -> str:
    """Capture the order's total; the charge reference. Raises ``CardDeclined`` (or another
    ``DomainError``) when refused, ``GatewayError`` when the gateway did not answer."""
    gateway = get_gateway()
    for attempt in range(1, CARD_CAPTURE_ATTEMPTS + 1):
        try:
            return gateway.capture(token=card_token, amount=order.total, reference=order.number,
                                   idempotency_key=capture_key(order))
        except GatewayError as exc:
            if not exc.transient or attempt == CARD_CAPTURE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def void(order: Order) -> bool:
    """Give back whatever the order's capture took (a no-op when nothing was captured)."""
    return get_gateway().void(capture_key=capture_key(order))
