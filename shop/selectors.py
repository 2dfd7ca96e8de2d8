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
    if _needs_blocks(loaded.document):
        _add_blocks(loaded.document, order_queryset().get(pk=loaded.order_id), with_auth_number=with_auth_number)
    return loaded, loaded.document


def order_resources(numbers, *, with_auth_number: bool) -> dict[str, tuple[OrderDocument, dict]]:
    """``order_resource`` of many orders (the webhook fan-out): a document query each, and one
    read for all the other apps' blocks."""
    found = {number: loaded for number in numbers if (loaded := order_document.load(number)) is not None}
    needing = {loaded.order_id: loaded for loaded in found.values() if _needs_blocks(loaded.document)}
    if needing:
        for order in order_queryset().filter(pk__in=list(needing)):
            _add_blocks(needing[order.pk].document, order, with_auth_number=with_auth_number)
    return {number: (loaded, loaded.document) for number, loaded in found.items()}


def _needs_blocks(doc: dict) -> bool:
    is_konbini = doc["payment"] is not None and doc["payment"]["method"] == PaymentMethod.KONBINI
    return is_konbini or doc["destination"]["type"] == DestinationType.PICKUP_STORE


def _add_blocks(doc: dict, order: Order, *, with_auth_number: bool) -> None:
    if doc["payment"] is not None and doc["payment"]["method"] == PaymentMethod.KONBINI:
        doc["payment"]["konbini"] = konbini_code_of(order)
    doc["pickup"] = pickup_of(order, with_auth_number=with_auth_number)


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
