"""Reads of pickup/: the ``pickup`` block of the order resource (API.md)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from backoffice.timeutil import local
from pickup.models import Pickup
from pickup.services import parcels
from shop.models import Order, OrderStatus

# What the storefront sees before the parcel reaches the store.
AWAITING_ARRIVAL = "awaiting_arrival"


def pickup_block(order: Order, with_auth_number: bool) -> dict | None:
    """``{store_code, status, deadline, inquiry_number, auth_number}``; the keys only while the
    parcel is ready (seed 000: the account shows them, no need to wait for the mail), the auth
    number only for the storefront. No query when the order came from ``order_queryset``."""
    if order.pickup_store_id is None:
        return None
    try:
        pickup = order.pickup
    except ObjectDoesNotExist:
        pickup = None
    block = {"store_code": order.pickup_store.code, "status": AWAITING_ARRIVAL, "deadline": None,
             "inquiry_number": None, "auth_number": None}
    if pickup is None:
        if order.status == OrderStatus.CANCELLED:
            block["status"] = Pickup.Status.CANCELLED.value
        return block
    status = pickup.status
    if status == Pickup.Status.READY and not parcels.is_live(pickup, order.status):
        status = Pickup.Status.CANCELLED.value  # cancelled by another path; the keys are dead
    block["status"] = status
    block["deadline"] = local(pickup.deadline).isoformat()
    if status == Pickup.Status.READY:
        block["inquiry_number"] = pickup.inquiry_number
        if with_auth_number:
            block["auth_number"] = pickup.auth_number
    return block
