"""A partner hears only about what it may read through the API (issue 13, ``shop.scopes``)."""

from __future__ import annotations

import pytest

from backoffice import outbox
from backoffice.checkdigits import seven_dr_number
from backoffice.models import Partner
from shop.models import Listing, Seller
from shop.scopes import RECIPIENT_CONTACT_FIELDS
from tests.factories import ListingFactory
from tests.webhooks.support import bodies, place_api, subscribe

pytestmark = pytest.mark.django_db
TRACKING = seven_dr_number("40000000000")


def test_a_seller_receives_only_its_own_orders_without_hidden_recipient_fields(storefront, make_client, make_receiver):
    sellers = {name: make_client(Partner.Kind.SELLER, name) for name in ("A", "B", "C")}
    receivers = {name: make_receiver() for name in sellers}
    for name, client in sellers.items():
        subscribe(client, receivers[name].url, ["order.placed", "order.cancelled"])
    seller = {name: Seller.objects.get(partner=client.partner) for name, client in sellers.items()}
    own = ListingFactory(seller=seller["A"], fulfilled_by=Listing.FulfilledBy.SELLER)
    shared = [ListingFactory(seller=seller["A"]), ListingFactory(seller=seller["B"])]
    self_number = place_api(storefront, own, external_id="cust-1")
    platform_number = place_api(storefront, *shared, external_id="cust-2")
    outbox.drain()

    got = {name: [(b["type"], b["data"]["order_number"]) for b in bodies(r)] for name, r in receivers.items()}
    assert got == {"A": [("order.placed", self_number), ("order.placed", platform_number)],
                   "B": [("order.placed", platform_number)], "C": []}
    # Each body is exactly what that seller's GET /orders/{n} answers.
    for name, receiver in receivers.items():
        for body in bodies(receiver):
            assert body["data"] == sellers[name].get(f"/api/v1/orders/{body['data']['order_number']}").json()
    shared_as_b = bodies(receivers["B"])[0]["data"]
    assert [line["sku"] for line in shared_as_b["lines"]] == [shared[1].sku]
    assert all(shared_as_b["destination"][f] is None for f in RECIPIENT_CONTACT_FIELDS)
    self_as_a = bodies(receivers["A"])[0]["data"]
    assert self_as_a["destination"]["recipient_name"]  # A ships its own order: it reads the address


def test_a_chain_receives_only_its_own_payment_codes(storefront, make_client, make_receiver):
    chains = {code: make_client(Partner.Kind.KONBINI_CHAIN, code, chain=code) for code in ("lawson", "familymart")}
    receivers = {code: make_receiver() for code in chains}
    for code, client in chains.items():
        subscribe(client, receivers[code].url, ["payment_code.voided"])
    number = place_api(storefront, method="konbini")
    lawson_code = storefront.json("post", f"/api/v1/orders/{number}/konbini-payment", {"chain": "lawson"}).json()
    fm_code = storefront.json("post", f"/api/v1/orders/{number}/konbini-payment", {"chain": "familymart"}).json()
    outbox.drain()
    assert [b["data"]["payment_number"] for b in bodies(receivers["lawson"])] == [lawson_code["payment_number"]]
    assert bodies(receivers["familymart"]) == []
    # The order is cancelled: the cancellation core voids FamilyMart's live code, FamilyMart hears of it.
    assert storefront.json("post", f"/api/v1/orders/{number}/cancel", {"reason": "customer_request"}).status_code == 200
    outbox.drain()
    assert [(b["data"]["payment_number"], b["data"]["status"]) for b in bodies(receivers["familymart"])] == [
        (fm_code["payment_number"], "void")]
    assert len(bodies(receivers["lawson"])) == 1


def test_a_carrier_receives_only_its_own_shipments(storefront, warehouse, make_client, make_receiver):
    carriers = {code: make_client(Partner.Kind.CARRIER, code, carrier=code) for code in ("yamato", "sagawa")}
    receivers = {code: make_receiver() for code in carriers}
    for code, client in carriers.items():
        subscribe(client, receivers[code].url, ["order.shipped"])
    number = place_api(storefront)
    warehouse.json("post", f"/api/v1/orders/{number}/shipments", {"carrier": "yamato", "tracking_number": TRACKING})
    outbox.drain()
    (shipped,) = bodies(receivers["yamato"])
    assert shipped["data"] == {"carrier": "yamato", "tracking_number": TRACKING, "events": [],
                               "order_status": "shipped"}
    assert bodies(receivers["sagawa"]) == []


def test_a_partner_may_subscribe_only_to_the_events_of_its_data(make_client):
    chain = make_client(Partner.Kind.KONBINI_CHAIN, "ローソン", chain="lawson")
    r = chain.json("post", "/api/v1/webhook-endpoints", {"url": "https://hooks.example.jp/k", "events": ["order.paid"]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_event_type"
    seller = make_client(Partner.Kind.SELLER, "S")
    r = seller.json("post", "/api/v1/webhook-endpoints",
                    {"url": "https://hooks.example.jp/s", "events": ["payment_code.voided"]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_event_type"
