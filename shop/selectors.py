"""Reads of shop/: the order resource (see ``shop.order_document``) and summaries."""

from __future__ import annotations

from django.db.models import QuerySet

from backoffice.timeutil import local
from shop import order_document
from shop.models import DestinationType, Order, PaymentMethod
from shop.order_document import OrderDocument


def _iso(dt) -> str | None:
    return local(dt).isoformat() if dt else None


def order_queryset() -> QuerySet[Order]:
    """Orders with what the other apps' blocks of the resource read (konbini code, pickup)."""
    return Order.objects.select_related(
        "customer", "payment", "pickup_store",
        "pickup",  # pickup/: the keys in "pickup"
    ).prefetch_related(
        "payment__konbini_codes",  # payments.konbini: the code shown in "payment.konbini"
    )


def order_resource(number: str, *, with_auth_number: bool) -> tuple[OrderDocument, dict] | None:
    """The API.md order resource of order ``number`` (canonical form), or None.

    One query for the document; konbini and pickup orders add one for their app's block.
    """
    loaded = order_document.load(number)
    if loaded is None:
        return None
    doc = loaded.document
    is_konbini = doc["payment"] is not None and doc["payment"]["method"] == PaymentMethod.KONBINI
    if is_konbini or doc["destination"]["type"] == DestinationType.PICKUP_STORE:
        order = order_queryset().get(pk=loaded.order_id)
        if is_konbini:
            doc["payment"]["konbini"] = konbini_code_of(order)
        doc["pickup"] = pickup_of(order, with_auth_number=with_auth_number)
    return loaded, doc


def konbini_code_of(order: Order) -> dict | None:
    """Filled in by payments.konbini (the live code of the order), else null."""
    for provider in _KONBINI_PROVIDERS:
        return provider(order)
    return None


def pickup_of(order: Order, *, with_auth_number: bool) -> dict | None:
    for provider in _PICKUP_PROVIDERS:
        return provider(order, with_auth_number)
    if order.pickup_store_id is None:
        return None
    return {"store_code": order.pickup_store.code, "status": None, "deadline": None,
            "inquiry_number": None, "auth_number": None}


_KONBINI_PROVIDERS: list = []
_PICKUP_PROVIDERS: list = []


def order_status(order_id: int) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order_id)


def order_summary(order: Order) -> dict:
    return {"order_number": order.number, "status": order.status,
            "cancellation_reason": order.cancellation_reason or None, "total": order.total,
            "placed_at": _iso(order.placed_at), "payment_method": order.payment_method}
