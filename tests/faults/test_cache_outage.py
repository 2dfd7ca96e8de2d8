"""The cache (Redis) killed mid-use (issue 19 items 3, 5): connections that were open break. The
pickup terminal keeps answering (no 500), keeps the store throttle from the database, and goes
back to the cache once it is back — nothing restarted; ``/healthz`` reports the cache meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings

from backoffice.models import Partner
from pickup.models import Pickup, Store
from tests.factories import StoreFactory
from tests.pickup.conftest import arrive, shipped_pickup_order, ticket_body

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

TICKETS = "/api/v1/pickup/tickets"
UNKNOWN = [f"{n:011d}{n % 7}" for n in range(20_000_000_000, 20_000_000_060)]


def test_the_cache_killed_mid_use_keeps_the_throttle_and_comes_back(throwaway_redis, make_client):
    lawson = make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")
    store = StoreFactory(chain="lawson")
    order, shipment = shipped_pickup_order(store)
    arrive(shipment, store.code)
    parcel = Pickup.objects.select_related("store").get(order=order)
    throwaway_redis.start()
    cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": throwaway_redis.url,
                         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    with override_settings(CACHES=cache), time_machine.travel(parcel.arrived_at + timedelta(minutes=1),
                                                              tick=False) as clock:
        statuses = []
        for i in range(10):  # counted in the cache
            statuses.append(lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[i])).status_code)
        assert Client().get("/healthz").json()["cache"] == "ok"
        throwaway_redis.kill()  # the open connections break
        for i in range(10, 22):  # counted from the database: 21 failures in 10 minutes throttle
            clock.shift(timedelta(seconds=5))
            statuses.append(lawson.json("post", TICKETS, ticket_body(parcel, inquiry_number=UNKNOWN[i])).status_code)
        health = Client().get("/healthz")
        assert health.status_code == 200 and health.json()["cache"].startswith("error")
        assert health.json()["status"] == "degraded"  # requests still work: keep serving, alert
        assert statuses == [404] * 21 + [429]
        assert Store.objects.get(pk=parcel.store_id).throttled_until is not None

        throwaway_redis.start()  # back (empty): the cache serves again, no restart
        assert Client().get("/healthz").json()["cache"] == "ok"
        clock.shift(timedelta(minutes=11))  # the throttle and the window are over
        assert lawson.json("post", TICKETS, ticket_body(parcel)).status_code == 201
