"""Fixtures for pickup/: chain partners, stores and a parcel waiting at a konbini."""

from __future__ import annotations

import itertools

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache

from backoffice.checkdigits import seven_dr_number
from backoffice.models import Partner
from backoffice.timeutil import now
from pickup.jobs import send_due_pickup_notices
from pickup.models import Pickup
from shop.models import Order, OrderStatus
from shop.services import orders, shipments
from tests.factories import ListingFactory, StoreFactory, place

_serial = itertools.count(30_000_000_000)


def new_tracking_number() -> str:
    return seven_dr_number(str(next(_serial)))


@pytest.fixture(autouse=True)
def _clean_cache():
    """Store-throttle counters live in the cache (Redis on the real stack): start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lawson(make_client):
    return make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")


@pytest.fixture
def familymart(make_client):
    return make_client(Partner.Kind.KONBINI_CHAIN, "ファミリーマート", chain="familymart")


@pytest.fixture
def store(db):
    return StoreFactory(chain="lawson", name="ローソン 大手町一丁目店")


def shipped_pickup_order(store, *, price: int = 1500, method: str = "card", external_id: str = "cust-1"):
    listing = ListingFactory(price=price)
    order = place(listing, method=method, destination={"type": "pickup_store", "store_code": store.code},
                  external_id=external_id)
    if method == "konbini":  # paid at the konbini before it ships
        orders.mark_paid(order, amount=order.total, actor="konbini:lawson")
        orders.transition(order, OrderStatus.PROCESSING, actor="konbini:lawson", note="コンビニ入金")
    shipment = shipments.register(order=order, carrier="yamato", tracking_number=new_tracking_number(), actor="test")
    return order, shipment


def arrive(shipment, store_code: str, *, at=None):
    return shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=at or now(),
                                  location="店舗", store_code=store_code, actor="carrier:test")


def arrive_and_notify(store, at, **kwargs) -> Order:
    """A pickup order that arrives at ``store`` at ``at``; the sweep sends its pickup-ready notice
    when due (``PICKUP_NOTICE_DELAY`` later), which fixes the parcel's deadline."""
    with time_machine.travel(at, tick=False):
        order, shipment = shipped_pickup_order(store, **kwargs)
        arrive(shipment, store.code)
    with time_machine.travel(at + settings.PICKUP_NOTICE_DELAY, tick=False):
        assert send_due_pickup_notices() == {"sent": 1}
    return order


@pytest.fixture
def make_parcel(db):
    """A parcel ready for pickup at ``store`` (order placed, shipped, arrived)."""

    def make(store, **kwargs) -> Pickup:
        order, shipment = shipped_pickup_order(store, **kwargs)
        arrive(shipment, store.code)
        return Pickup.objects.select_related("order", "store").get(order=order)

    return make


@pytest.fixture
def parcel(make_parcel, store):
    return make_parcel(store)


def ticket_body(pickup: Pickup, **overrides) -> dict:
    body = {"store_code": pickup.store.code, "inquiry_number": pickup.inquiry_number,
            "auth_number": pickup.auth_number}
    body.update(overrides)
    return body
