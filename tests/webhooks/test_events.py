"""Every event type reaches a real receiver, signed, with the API resource as its body (issue 13)."""

from __future__ import annotations

import json

import pytest

from backoffice import outbox
from backoffice.checkdigits import seven_dr_number
from backoffice.models import Partner
from pickup.models import Store
from tests.factories import ListingFactory, StoreFactory, order_payload
from tests.webhooks.verify import signature_ok
from webhooks.models import Delivery
from webhooks.types import SUBSCRIBABLE

pytestmark = pytest.mark.django_db

TRACKING = iter(seven_dr_number(str(n)) for n in range(41_000_000_000, 41_000_001_000))


def subscribe(client, url: str, events: list[str]) -> dict:
    r = client.json("post", "/api/v1/webhook-endpoints", {"url": url, "events": events})
    assert r.status_code == 201, r.json()
    return r.json()


def received(receiver, type_: str) -> list[dict]:
    return [json.loads(r.body) for r in receiver.requests if json.loads(r.body)["type"] == type_]


def get_order(client, number: str) -> dict:
    r = client.get(f"/api/v1/orders/{number}")
    assert r.status_code == 200
    return r.json()


def place_api(storefront, *listings, **kwargs) -> str:
    r = storefront.json("post", "/api/v1/orders", order_payload(*listings, **kwargs))
    assert r.status_code == 201, r.json()
    return r.json()["order_number"]


def ship(warehouse, number: str) -> str:
    tracking = next(TRACKING)
    r = warehouse.json("post", f"/api/v1/orders/{number}/shipments", {"carrier": "yamato", "tracking_number": tracking})
    assert r.status_code == 201, r.json()
    return tracking


def carrier_event(carrier, tracking: str, type_: str, **extra):
    from backoffice.timeutil import local, now

    body = {"type": type_, "occurred_at": local(now()).isoformat(), "location": "東京ベース店", **extra}
    r = carrier.json("post", f"/api/v1/shipments/{tracking}/events", body)
    assert r.status_code == 201, r.json()


def test_every_event_type_is_delivered_signed_with_the_resource_as_the_partner_reads_it(
        storefront, warehouse, carrier, make_client, receiver, make_receiver):
    hook = subscribe(storefront, receiver.url, sorted(SUBSCRIBABLE[Partner.Kind.STOREFRONT]))
    lawson = make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")
    chain_receiver = make_receiver()
    chain_hook = subscribe(lawson, chain_receiver.url, ["payment_code.voided"])
    listing = ListingFactory(price=1200)

    # placed + paid → shipped → delivered
    number = place_api(storefront, listing)
    outbox.drain()
    assert [e["type"] for e in map(json.loads, (r.body for r in receiver.requests))] == ["order.placed", "order.paid"]
    tracking = ship(warehouse, number)
    outbox.drain()
    assert received(receiver, "order.shipped")[-1]["data"] == get_order(storefront, number)
    carrier_event(carrier, tracking, "delivered")
    outbox.drain()
    delivered = received(receiver, "order.delivered")[-1]
    assert delivered["data"] == get_order(storefront, number)
    assert [e["sequence"] for e in map(json.loads, (r.body for r in receiver.requests))] == [1, 2, 3, 4]

    # ready for pickup
    store = StoreFactory(chain="lawson")
    pickup_number = place_api(storefront, listing, destination={"type": "pickup_store", "store_code": store.code},
                              external_id="cust-2")
    pickup_tracking = ship(warehouse, pickup_number)
    carrier_event(carrier, pickup_tracking, "arrived_at_store", store_code=store.code)
    outbox.drain()
    ready = received(receiver, "order.ready_for_pickup")[-1]
    assert ready["data"] == get_order(storefront, pickup_number)
    assert ready["data"]["pickup"]["auth_number"]  # the storefront reads the keys

    # cancelled, refund succeeded
    cancelled_number = place_api(storefront, listing, external_id="cust-3")
    r = storefront.json("post", f"/api/v1/orders/{cancelled_number}/cancel", {"reason": "customer_request"})
    assert r.status_code == 200
    outbox.drain()
    assert received(receiver, "order.cancelled")[-1]["data"]["status"] == "cancelled"
    succeeded = received(receiver, "refund.succeeded")[-1]
    assert succeeded["data"] == get_order(storefront, cancelled_number)
    assert succeeded["refund"]["status"] == "succeeded" and succeeded["refund"]["amount"] == 1200

    # refund failed
    payload = order_payload(listing, external_id="cust-4")
    payload["card_token"] = "tok_refund_fail"
    failing_number = storefront.json("post", "/api/v1/orders", payload).json()["order_number"]
    storefront.json("post", f"/api/v1/orders/{failing_number}/cancel", {"reason": "customer_request"})
    outbox.drain()
    failed = received(receiver, "refund.failed")[-1]
    assert failed["data"] == get_order(storefront, failing_number) and failed["refund"]["status"] == "failed"

    # a chain's payment code voided (the customer switched chains)
    konbini_number = place_api(storefront, listing, method="konbini", external_id="cust-5")
    code = storefront.json("post", f"/api/v1/orders/{konbini_number}/konbini-payment", {"chain": "lawson"}).json()
    storefront.json("post", f"/api/v1/orders/{konbini_number}/konbini-payment", {"chain": "familymart"})
    outbox.drain()
    (voided,) = [json.loads(r.body) for r in chain_receiver.requests]
    assert voided["type"] == "payment_code.voided"
    assert voided["data"] == {**voided["data"], "payment_number": code["payment_number"], "chain": "lawson",
                              "status": "void"}
    lookup = lawson.json("post", "/api/v1/konbini/payments/lookup",
                         {"payment_number": code["payment_number"], "check_code": "8888"})
    assert lookup.status_code == 404  # dead: exactly what the event said

    # ping
    assert storefront.post(f"/api/v1/webhook-endpoints/{hook['id']}/test").status_code == 202
    outbox.drain()
    assert received(receiver, "ping")[-1]["data"] == {"message": "ping"}

    # every request: signed with the endpoint's secret, one event id per event, headers agree
    types_seen = {json.loads(r.body)["type"] for r in receiver.requests}
    assert types_seen == SUBSCRIBABLE[Partner.Kind.STOREFRONT] | {"ping"}
    for r, secret in [*((r, hook["secret"]) for r in receiver.requests),
                      *((r, chain_hook["secret"]) for r in chain_receiver.requests)]:
        assert signature_ok(r.headers["Konbini-Signature"], r.body, secret)
        assert not signature_ok(r.headers["Konbini-Signature"], r.body, "whsec_wrong")
        assert r.headers["Konbini-Event-Id"] == json.loads(r.body)["id"]
    ids = [json.loads(r.body)["id"] for r in receiver.requests]
    assert len(ids) == len(set(ids))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert Store.objects.filter(code=store.code).exists()


def test_a_konbini_payment_is_order_paid_on_both_write_paths(storefront, make_client, receiver,
                                                             django_assert_max_num_queries):
    """PostgreSQL records the payment in one statement (which also checks for subscribers);
    SQLite through the services: both emit ``order.paid`` exactly once."""
    from tests.payments.konbini_support import confirm_body, issue, konbini_order

    lawson = make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")
    code = issue(konbini_order(price=2980), "lawson")
    subscribe(storefront, receiver.url, ["order.paid"])
    r = lawson.json("post", "/api/v1/konbini/payments/confirm", confirm_body(code, amount=2980))
    assert r.status_code == 200, r.json()
    outbox.drain()
    (paid,) = [json.loads(x.body) for x in receiver.requests]
    assert paid["type"] == "order.paid" and paid["data"]["payment"]["status"] == "paid"
    assert paid["data"] == get_order(storefront, paid["data"]["order_number"])
