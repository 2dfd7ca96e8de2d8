from __future__ import annotations

import json
from datetime import timedelta

import time_machine

from backoffice import outbox
from backoffice.timeutil import now
from tests.factories import ListingFactory, order_payload


def subscribe(client, url: str, events: list[str], **extra) -> dict:
    r = client.json("post", "/api/v1/webhook-endpoints", {"url": url, "events": events, **extra})
    assert r.status_code == 201, r.json()
    return r.json()


def bodies(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests]


def place_api(storefront, *listings, **kwargs) -> str:
    r = storefront.json("post", "/api/v1/orders", order_payload(*(listings or [ListingFactory()]), **kwargs))
    assert r.status_code == 201, r.json()
    return r.json()["order_number"]


def run_for(duration: timedelta, *, step: timedelta = timedelta(minutes=1)) -> None:
    """The relay running every ``step`` for ``duration`` of travelled time."""
    start = now()
    elapsed = timedelta(0)
    while elapsed <= duration:
        with time_machine.travel(start + elapsed, tick=False):
            outbox.drain()
        elapsed += step
