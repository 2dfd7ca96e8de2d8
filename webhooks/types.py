"""The event types (API.md "Webhooks") and which partner kinds may subscribe to each: a partner
hears only about data it may read through the API (``shop.scopes``)."""

from __future__ import annotations

from backoffice.actors import PartnerKind
from webhooks.models import Event

T = Event.Type
K = PartnerKind

ORDER_TYPES = frozenset({T.ORDER_PLACED, T.ORDER_PAID, T.ORDER_SHIPPED, T.ORDER_READY_FOR_PICKUP,
                         T.ORDER_DELIVERED, T.ORDER_CANCELLED})
REFUND_TYPES = frozenset({T.REFUND_SUCCEEDED, T.REFUND_FAILED})
CODE_TYPES = frozenset({T.PAYMENT_CODE_VOIDED})
# What a carrier reads is its shipments: the events that move a parcel.
CARRIER_TYPES = frozenset({T.ORDER_SHIPPED, T.ORDER_READY_FOR_PICKUP, T.ORDER_DELIVERED, T.ORDER_CANCELLED})

SUBSCRIBABLE: dict[str, frozenset[str]] = {
    K.STOREFRONT: ORDER_TYPES | REFUND_TYPES,
    K.WAREHOUSE: ORDER_TYPES | REFUND_TYPES,
    K.SELLER: ORDER_TYPES | REFUND_TYPES,
    K.CARRIER: CARRIER_TYPES,
    K.KONBINI_CHAIN: CODE_TYPES,
}

# The order's status → the event of arriving there (``orders.transition``); paid and cancelled
# are emitted where the payment is recorded and by the cancellation core.
ARRIVAL = {"shipped": T.ORDER_SHIPPED, "ready_for_pickup": T.ORDER_READY_FOR_PICKUP, "delivered": T.ORDER_DELIVERED}


def resource_kind(type_: str) -> str:
    """What the ids given to ``emit`` for this type are: orders, refunds or payment codes."""
    if type_ in ORDER_TYPES:
        return "order"
    if type_ in REFUND_TYPES:
        return "refund"
    if type_ in CODE_TYPES:
        return "payment_code"
    raise ValueError(type_)
