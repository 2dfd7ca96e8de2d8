"""Partner auth and scope, the error body, seller endpoints, idempotency, commands."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from backoffice.models import IdempotencyRecord, Partner
from shop.models import Listing, Order
from tests.factories import ListingFactory, SellerFactory, order_payload, place

pytestmark = pytest.mark.django_db


# --- auth and scope --------------------------------------------------------------------------

def test_no_key_is_401_with_the_error_body(anon):
    r = anon.get("/api/v1/ping")
    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "message": "APIキーが必要です。", "field": None, "reasons": []}


def test_a_bad_key_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    assert anon.get("/api/v1/ping").json()["code"] == "unauthorized"


def test_keys_are_stored_as_sha256_digests_only(storefront):
    partner = Partner.objects.get(pk=storefront.partner.pk)
    assert len(partner.key_digest) == 64 and storefront.get("/api/v1/ping").status_code == 200


def test_an_inactive_partner_is_refused(storefront):
    Partner.objects.filter(pk=storefront.partner.pk).update(active=False)
    assert storefront.get("/api/v1/ping").status_code == 401


def test_a_partner_reaches_only_its_kind_of_endpoints(carrier):
    r = carrier.json("post", "/api/v1/orders", order_payload(ListingFactory()))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert not Order.objects.exists()


def test_a_seller_sees_only_orders_with_its_listings(make_client):
    mine, other = SellerFactory(), SellerFactory()
    client = make_client("seller", seller=mine)
    own = place(ListingFactory(seller=mine))
    theirs = place(ListingFactory(seller=other), external_id="cust-2")
    assert client.get(f"/api/v1/orders/{own.number}").status_code == 200
    r = client.get(f"/api/v1/orders/{theirs.number}")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    listed = client.get("/api/v1/seller/orders").json()["results"]
    assert [o["order_number"] for o in listed] == [own.number]


# --- error body everywhere -------------------------------------------------------------------

def test_unknown_api_path_is_a_json_404(storefront):
    r = storefront.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_wrong_method_is_405(storefront):
    r = storefront.delete("/api/v1/orders")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_malformed_json_is_400(storefront):
    r = storefront.post("/api/v1/orders", data='{"customer": ', content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"


def test_non_json_body_is_415(storefront):
    r = storefront.post("/api/v1/orders", data="a=1", content_type="text/plain")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"


def test_a_json_array_instead_of_an_object_is_400(storefront):
    r = storefront.json("post", "/api/v1/orders", [1, 2])
    assert r.status_code == 400 and r.json()["code"] == "invalid"


# --- bad input on every field: coded error, nothing written -----------------------------------

BASE_FIELDS = {
    "customer": [None, "x", {"external_id": "c", "email": "not-an-email", "name": "n"}],
    "customer.external_id": [None, 123, "x" * 65],
    "customer.email": ["nope", 5],
    "customer.name": ["", "x" * 101, ["a"]],
    "customer.phone": ["12345", "abc", "0" * 30],
    "items": [[], "x", [{"sku": "A"}], [{"sku": "A", "quantity": 0}], [{"sku": "A", "quantity": -1}],
              [{"sku": "A", "quantity": 10**9}], [{"sku": "A", "quantity": "2"}], [{"sku": "A", "quantity": True}],
              [{"sku": "no-such-sku", "quantity": 1}]],
    "shipping_speed": ["warp", None, 1],
    "destination": [None, {"type": "moon"}, {"type": "home"}, {"type": "pickup_store"}],
    "destination.postal_code": ["12345", "abcdefg", "1" * 11],
    "destination.phone": ["1234", "+1 555 0100"],
    "destination.recipient_name": ["x" * 101],
    "payment_method": ["bitcoin", None],
    "card_token": [None, "tok_unknown", 42],
}


def _set(payload: dict, dotted: str, value) -> dict:
    *parents, leaf = dotted.split(".")
    target = payload
    for key in parents:
        target = target[key]
    target[leaf] = value
    return payload


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, vs in BASE_FIELDS.items() for v in vs])
def test_post_orders_rejects_a_malformed_field_and_writes_nothing(storefront, field, value):
    listing = ListingFactory(sku="A", stock=5)
    payload = _set(order_payload(listing), field, value)
    r = storefront.json("post", "/api/v1/orders", payload)
    assert r.status_code == 400, (field, value, r.json())
    body = r.json()
    assert set(body) == {"code", "message", "field", "reasons"} and body["code"] and body["message"]
    assert body["field"] is not None
    assert not Order.objects.exists()
    listing.refresh_from_db()
    assert listing.stock == 5


@pytest.mark.parametrize(("payload", "field"), [
    ({"sku": "S", "title": "t", "price": 0, "stock": 1, "fulfilled_by": "platform"}, "price"),
    ({"sku": "S", "title": "t", "price": -5, "stock": 1, "fulfilled_by": "platform"}, "price"),
    ({"sku": "S", "title": "t", "price": 10**12, "stock": 1, "fulfilled_by": "platform"}, "price"),
    ({"sku": "S", "title": "t", "price": "100", "stock": 1, "fulfilled_by": "platform"}, "price"),
    ({"sku": "S", "title": "t", "price": 100, "stock": -1, "fulfilled_by": "platform"}, "stock"),
    ({"sku": "S", "title": "t", "price": 100, "stock": 1, "fulfilled_by": "drone"}, "fulfilled_by"),
    ({"sku": "S", "title": "t", "price": 100, "stock": 1, "fulfilled_by": "seller", "digital": "yes"}, "digital"),
    ({"sku": "S" * 65, "title": "t", "price": 100, "stock": 1, "fulfilled_by": "seller"}, "sku"),
    ({"sku": "S", "title": "", "price": 100, "stock": 1, "fulfilled_by": "seller"}, "title"),
    ({"title": "t", "price": 100, "stock": 1, "fulfilled_by": "seller"}, "sku"),
])
def test_post_listings_rejects_malformed_fields(seller_client, payload, field):
    r = seller_client.json("post", "/api/v1/listings", payload)
    assert r.status_code == 400 and r.json()["field"] == field
    assert not Listing.objects.exists()


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/v1/seller/settings", {"accept_cod_self_fulfilled": "true"}, "accept_cod_self_fulfilled"),
    ("/api/v1/seller/settings", {"accept_konbini_self_fulfilled": 1}, "accept_konbini_self_fulfilled"),
    ("/api/v1/listings/OWN", {"price": 0}, "price"),
    ("/api/v1/listings/OWN", {"stock": "many"}, "stock"),
    ("/api/v1/listings/OWN", {"title": "x" * 201}, "title"),
])
def test_seller_patches_reject_malformed_fields(seller_client, path, payload, field):
    ListingFactory(sku="OWN", seller=seller_client.partner.seller, stock=4)
    r = seller_client.json("patch", path, payload)
    assert r.status_code == 400 and r.json()["field"] == field
    assert Listing.objects.get(sku="OWN").stock == 4


@pytest.mark.parametrize(("payload", "field"), [
    ({"carrier": "pigeon", "tracking_number": "123456789012"}, "carrier"),
    ({"carrier": "yamato", "tracking_number": "12345"}, "tracking_number"),
    ({"carrier": "yamato", "tracking_number": "abcdefghijkl"}, "tracking_number"),
    ({"carrier": "yamato"}, "tracking_number"),
])
def test_shipments_reject_malformed_fields(warehouse, payload, field):
    order = place(ListingFactory())
    r = warehouse.json("post", f"/api/v1/orders/{order.number}/shipments", payload)
    assert r.status_code == 400 and r.json()["field"] == field
    assert Order.objects.get(pk=order.pk).status == "processing"


@pytest.mark.parametrize(("payload", "field"), [
    ({"type": "teleported", "occurred_at": "2026-11-24T10:00:00+09:00", "location": "x"}, "type"),
    ({"type": "delivered", "occurred_at": "yesterday", "location": "x"}, "occurred_at"),
    ({"type": "delivered", "occurred_at": "2026-11-24T10:00:00+09:00", "location": "x" * 101}, "location"),
    ({"type": "delivered", "occurred_at": "2026-11-24T10:00:00+09:00"}, "location"),
])
def test_carrier_events_reject_malformed_fields(warehouse, carrier, payload, field):
    from backoffice.checkdigits import seven_dr_number

    order = place(ListingFactory())
    tracking = seven_dr_number("12345678901")
    warehouse.json("post", f"/api/v1/orders/{order.number}/shipments", {"carrier": "yamato", "tracking_number": tracking})
    r = carrier.json("post", f"/api/v1/shipments/{tracking}/events", payload)
    assert r.status_code == 400 and r.json()["field"] == field
    assert not order.shipment.events.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"amount": 0, "reference": "GC"}, "amount"),
    ({"amount": -100, "reference": "GC"}, "amount"),
    ({"amount": 10**10, "reference": "GC"}, "amount"),
    ({"amount": "100", "reference": "GC"}, "amount"),
    ({"amount": 100}, "reference"),
])
def test_gift_card_credit_rejects_malformed_fields(storefront, payload, field):
    place(ListingFactory())
    r = storefront.json("post", "/api/v1/customers/cust-1/gift-card/credits", payload)
    assert r.status_code == 400 and r.json()["field"] == field
    assert storefront.get("/api/v1/customers/cust-1/gift-card").json()["entries"] == []


@pytest.mark.parametrize(("payload", "field"), [
    ({"phone": "1234", "topic": "t"}, "phone"),
    ({"phone": "03-1234-5678", "topic": ""}, "topic"),
    ({"phone": "03-1234-5678", "topic": "t", "order_number": "123"}, "order_number"),
])
def test_callback_requests_reject_malformed_fields(storefront, payload, field):
    place(ListingFactory())
    r = storefront.json("post", "/api/v1/customers/cust-1/callback-requests", payload)
    assert r.status_code == 400 and r.json()["field"] == field


def test_bad_order_number_in_the_path_is_400(storefront):
    r = storefront.get("/api/v1/orders/12-34")
    assert r.status_code == 400 and r.json()["code"] == "invalid_order_number"


# --- seller endpoints ------------------------------------------------------------------------

def test_seller_creates_and_updates_its_listing(seller_client):
    r = seller_client.json("post", "/api/v1/listings", {"sku": "CRAB-1", "title": "毛ガニ", "price": 8800, "stock": 3,
                                                        "fulfilled_by": "seller", "digital": False})
    assert r.status_code == 201 and r.json()["price"] == 8800
    r = seller_client.json("patch", "/api/v1/listings/CRAB-1", {"price": 7800, "stock": 10})
    assert (r.json()["price"], r.json()["stock"]) == (7800, 10)


def test_skus_are_unique_across_the_shop(seller_client):
    ListingFactory(sku="TAKEN")
    r = seller_client.json("post", "/api/v1/listings", {"sku": "TAKEN", "title": "t", "price": 1, "stock": 1,
                                                        "fulfilled_by": "seller"})
    assert r.status_code == 409 and r.json()["code"] == "sku_taken"


def test_a_seller_cannot_patch_another_sellers_listing(seller_client):
    ListingFactory(sku="THEIRS", price=100)
    assert seller_client.json("patch", "/api/v1/listings/THEIRS", {"price": 1}).status_code == 404
    assert Listing.objects.get(sku="THEIRS").price == 100


def test_seller_settings_start_off_and_can_be_switched_on(seller_client):
    assert seller_client.get("/api/v1/seller/settings").json() == {
        "accept_cod_self_fulfilled": False, "accept_konbini_self_fulfilled": False}
    r = seller_client.json("patch", "/api/v1/seller/settings", {"accept_cod_self_fulfilled": True})
    assert r.json()["accept_cod_self_fulfilled"] is True


# --- idempotency ---------------------------------------------------------------------------

def test_same_idempotency_key_and_body_replays_the_first_response(storefront):
    payload = order_payload(ListingFactory(stock=5))
    first = storefront.json("post", "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-1")
    again = storefront.json("post", "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and Order.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_422(storefront):
    listing = ListingFactory(stock=5)
    storefront.json("post", "/api/v1/orders", order_payload(listing), HTTP_IDEMPOTENCY_KEY="k-1")
    r = storefront.json("post", "/api/v1/orders", order_payload(listing, quantity=2), HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_an_overlong_idempotency_key_is_400(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()), HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert r.status_code == 400 and not Order.objects.exists() and not IdempotencyRecord.objects.exists()


def test_a_refused_request_is_replayed_as_refused(storefront):
    payload = order_payload(ListingFactory(stock=5))
    payload["card_token"] = "tok_declined"
    first = storefront.json("post", "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-2")
    again = storefront.json("post", "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == again.status_code == 402 and again["Idempotent-Replayed"] == "true"
    assert Order.objects.get().status == "cancelled"  # the decline cancelled it; the replay placed nothing


# --- commands and health ---------------------------------------------------------------------

def test_create_partner_prints_a_working_key_on_its_last_line(capsys, anon):
    call_command("create_partner", "--kind", "konbini_chain", "--name", "ローソン", "--chain", "lawson")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert anon.get("/api/v1/ping").json() == {"partner": "ローソン", "kind": "konbini_chain"}


def test_create_partner_for_a_seller_creates_the_seller(capsys):
    call_command("create_partner", "--kind", "seller", "--name", "北海道市場")
    assert Partner.objects.get(kind="seller").seller.name == "北海道市場"


def test_konbini_chain_partner_needs_a_chain():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_partner", "--kind", "konbini_chain", "--name", "x")
    assert not Partner.objects.exists()


def test_run_periodic_jobs_runs_every_registered_job(capsys):
    from backoffice import jobs

    call_command("run_periodic_jobs")
    out = capsys.readouterr().out
    for name in jobs.load_all():
        assert f"{name}: " in out


def test_seed_demo_creates_orders_in_several_states_and_is_idempotent(capsys):
    call_command("seed_demo")
    count = Order.objects.count()
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"processing", "shipped", "delivered", "pending_payment", "cancelled"} <= statuses
    call_command("seed_demo")
    assert Order.objects.count() == count


def test_healthz_reports_database_and_broker(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok" and r.json()["broker"] == "ok"


def test_openapi_schema_is_served_and_valid(client):
    from drf_spectacular.validation import validate_schema

    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    validate_schema(schema)
    assert "/api/v1/orders" in schema["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn.jsdelivr.net" not in docs.content and b"/static/drf_spectacular_sidecar/" in docs.content


def test_the_last_resort_handler_keeps_a_domain_errors_body_and_headers(rf):
    from backoffice.api.errors import ApiExceptionMiddleware
    from backoffice.errors import DomainError

    refused = DomainError("メンテナンス中です。", code="maintenance", status=503, headers={"Retry-After": "600"})
    response = ApiExceptionMiddleware(lambda request: None).process_exception(rf.get("/api/v1/anything"), refused)
    assert response.status_code == 503 and response["Retry-After"] == "600"
    assert json.loads(response.content) == {"code": "maintenance", "message": "メンテナンス中です。", "field": None,
                                            "reasons": []}
