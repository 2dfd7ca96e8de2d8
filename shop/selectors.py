"""Reads: the order resource of API.md, built with a constant number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from backoffice.timeutil import local
from shop.models import Order, OrderEvent, OrderLine, ShipmentEvent


def _iso(dt) -> str | None:
    return local(dt).isoformat() if dt else None


def order_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("customer", "payment", "shipment", "pickup_store").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("listing").order_by("id")),
        Prefetch("shipment__events", queryset=ShipmentEvent.objects.order_by("occurred_at", "id")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("at", "id")),
        "refunds",
        "payment__konbini_codes",  # payments.konbini: the code shown in "payment.konbini"
    )


def _destination(order: Order) -> dict:
    if order.destination_type == "pickup_store":
        return {"type": "pickup_store", "store_code": order.pickup_store.code}
    return {
        "type": "home", "postal_code": order.postal_code, "prefecture": order.prefecture, "city": order.city,
        "address_line": order.address_line, "recipient_name": order.recipient_name, "phone": order.recipient_phone,
    }


def _payment(order: Order) -> dict | None:
    payment = getattr(order, "payment", None)
    if payment is None:
        return None
    return {"method": payment.method, "status": payment.status, "deadline": _iso(payment.deadline),
            "konbini": konbini_code_of(order)}


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


def order_representation(order: Order, *, with_auth_number: bool = True) -> dict:
    shipment = getattr(order, "shipment", None)
    return {
        "order_number": order.number,
        "status": order.status,
        "cancellation_reason": order.cancellation_reason or None,
        "total": order.total,
        "customer_external_id": order.customer.external_id,
        "shipping_speed": order.shipping_speed,
        "destination": _destination(order),
        "lines": [{"sku": li.sku, "title": li.title, "quantity": li.quantity, "unit_price": li.unit_price}
                  for li in order.lines.all()],
        "payment": _payment(order),
        "shipment": None if shipment is None else {
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
            "events": [{"type": e.type, "occurred_at": _iso(e.occurred_at), "location": e.location}
                       for e in shipment.events.all()],
        },
        "pickup": pickup_of(order, with_auth_number=with_auth_number),
        "refunds": [{"amount": r.amount, "method": r.method, "status": r.status, "reason": r.reason,
                     "created_at": _iso(r.created_at)} for r in order.refunds.all()],
        "timeline": [{"at": _iso(e.at), "kind": e.kind, "from_status": e.from_status or None,
                      "to_status": e.to_status or None, "actor": e.actor, "note": e.note}
                     for e in order.events.all()],
        "risk_score": order.risk_score,
    }


def order_summary(order: Order) -> dict:
    return {"order_number": order.number, "status": order.status,
            "cancellation_reason": order.cancellation_reason or None, "total": order.total,
            "placed_at": _iso(order.placed_at), "payment_method": order.payment_method}
