"""Hostile input (issue 12): every request the attack run sent gets a coded JSON error, never a
500 and never an HTML page, and writes nothing. Limits live in ``backoffice.limits``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from backoffice import limits
from backoffice.timeutil import local, now
from payments.models import Payment
from shop.models import Listing, Order, ShipmentEvent
from tests.factories import ListingFactory, StoreFactory, order_payload
from tests.security.world import World, now_iso

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_client, anon):
    return World(make_client, anon)


def test_the_limits_are_the_documented_numbers():
    assert limits.MAX_BODY_BYTES == 1024 * 1024 == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limits.MAX_JSON_DEPTH == 32
    assert len(limits.PREFECTURES) == len(set(limits.PREFECTURES)) == 47
    assert limits.MAX_CLOCK_SKEW == timedelta(minutes=10)
    assert limits.PAYMENT_REPORT_MAX_AGE == timedelta(days=31)
    assert limits.CARRIER_EVENT_MAX_AGE == timedelta(days=365)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and set(body) == {"code", "message", "field", "reasons"}
    return body


# --- HTTP level ------------------------------------------------------------------------------

def test_a_10_mb_body_is_413_json(storefront):
    body = json.dumps({"x": "a" * (10 * 1024 * 1024)})
    r = storefront.post("/api/v1/orders", data=body, content_type="application/json")
    _error(r, 413, "payload_too_large")
    assert not Order.objects.exists()


def test_a_body_django_finds_too_big_while_reading_is_413_json_too(rf):
    from django.core.exceptions import RequestDataTooBig

    from backoffice.api.errors import ApiExceptionMiddleware

    response = ApiExceptionMiddleware(lambda r: None).process_exception(rf.post("/api/v1/orders"), RequestDataTooBig())
    assert response.status_code == 413 and json.loads(response.content)["code"] == "payload_too_large"


def test_a_body_just_under_the_limit_is_read(storefront):
    body = json.dumps({"x": "a" * (limits.MAX_BODY_BYTES - 100)})
    r = storefront.post("/api/v1/orders", data=body, content_type="application/json")
    _error(r, 400, "required")  # parsed and validated: the order fields are missing


def test_json_nested_100000_deep_is_400_too_deep(storefront):
    r = storefront.post("/api/v1/orders", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    _error(r, 400, "too_deep")


@pytest.mark.parametrize("depth, code", [(limits.MAX_JSON_DEPTH, "required"), (limits.MAX_JSON_DEPTH + 1, "too_deep")])
def test_nesting_is_allowed_up_to_the_limit(storefront, depth, code):
    doc = {"customer": 1}
    for _ in range(depth - 1):
        doc = {"customer": doc}
    r = storefront.post("/api/v1/orders", data=json.dumps(doc), content_type="application/json")
    assert r.json()["code"] == code


def test_nan_is_not_json(seller_client):
    _error(seller_client.post("/api/v1/listings", data='{"price": NaN}', content_type="application/json"), 400,
           "malformed_json")


@pytest.mark.parametrize("path", ["/api/v1/orders/%00", "/api/v1/orders/111-2222222-3456789%00",
                                  "/api/v1/customers/a%00b/orders", "/api/v1/shipments/%01/events",
                                  "/api/v1/customers/cust?x=%00"])
def test_a_control_character_in_the_path_is_400_json(storefront, path):
    body = _error(storefront.get(path), 400, "invalid_characters")
    assert body["field"] == "path"


def test_an_overlong_path_segment_is_400(storefront):
    _error(storefront.get("/api/v1/customers/" + "x" * 5000 + "/orders"), 400, "invalid_path")


def test_a_nul_in_the_idempotency_key_is_400_json_and_writes_nothing(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()), HTTP_IDEMPOTENCY_KEY="k\x00")
    assert _error(r, 400, "invalid_characters")["field"] == "Idempotency-Key"
    assert not Order.objects.exists()


def test_a_nul_in_a_staff_page_path_is_a_plain_400_not_a_500():
    r = Client().get("/staff/orders/%00/")
    assert r.status_code == 400


def test_control_characters_in_text_fields_are_refused(seller_client):
    body = {"sku": "TEA-1", "title": "お茶\x00", "price": 100, "stock": 1, "fulfilled_by": "seller"}
    assert seller_client.json("post", "/api/v1/listings", body).status_code == 400
    body["title"] = "お茶\x1b[31m"
    assert _error(seller_client.json("post", "/api/v1/listings", body), 400, "invalid_characters")["field"] == "title"
    assert not Listing.objects.exists()


# --- times partners report -------------------------------------------------------------------

def _confirm_body(world: World, **overrides) -> dict:
    body = {"payment_number": world.payment_number, "check_code": "8888", "amount": world.konbini_order.total,
            "store_code": world.store_code, "paid_at": now_iso(), "receipt_number": "R-1"}
    return body | overrides


@pytest.mark.parametrize("paid_at", ["1900-01-01T00:00:00+09:00", "0001-01-01T00:00:00+00:00",
                                     "2099-01-01T00:00:00+09:00"])
def test_a_paid_at_far_from_now_is_refused(world, paid_at):
    r = world.client("lawson").json("post", "/api/v1/konbini/payments/confirm", _confirm_body(world, paid_at=paid_at))
    assert _error(r, 400, "time_out_of_range")["field"] == "paid_at"
    assert Payment.objects.get(order=world.konbini_order).status == "pending"


def test_a_paid_at_at_the_edges_of_the_window(world):
    lawson = world.client("lawson")
    too_old = local(now() - limits.PAYMENT_REPORT_MAX_AGE - timedelta(minutes=1)).isoformat()
    assert lawson.json("post", "/api/v1/konbini/payments/confirm", _confirm_body(world, paid_at=too_old)).status_code == 400
    skewed = local(now() + limits.MAX_CLOCK_SKEW - timedelta(seconds=30)).isoformat()
    assert lawson.json("post", "/api/v1/konbini/payments/confirm", _confirm_body(world, paid_at=skewed)).status_code == 200


@pytest.mark.parametrize("occurred_at", ["2099-01-01T00:00:00+09:00", "0001-01-01T00:00:00+00:00",
                                         "1970-01-01T00:00:00Z"])
def test_carrier_events_far_from_now_are_refused(world, occurred_at):
    r = world.client("yamato").json("post", f"/api/v1/shipments/{world.shipped_tracking}/events",
                                    {"type": "in_transit", "occurred_at": occurred_at, "location": "x"})
    assert _error(r, 400, "time_out_of_range")["field"] == "occurred_at"
    assert not ShipmentEvent.objects.exists()


def test_a_late_carrier_scan_within_the_window_is_kept(world):
    last_month = local(now() - timedelta(days=30)).isoformat()
    r = world.client("yamato").json("post", f"/api/v1/shipments/{world.shipped_tracking}/events",
                                    {"type": "accepted", "occurred_at": last_month, "location": "x"})
    assert r.status_code == 201


# --- store codes, prefectures, SKUs ----------------------------------------------------------

def test_a_confirmation_from_another_chains_store_is_refused(world):
    familymart_store = StoreFactory(chain="familymart", code="FM0001")
    r = world.client("lawson").json("post", "/api/v1/konbini/payments/confirm",
                                    _confirm_body(world, store_code=familymart_store.code))
    assert _error(r, 400, "store_not_found")["field"] == "store_code"
    assert Payment.objects.get(order=world.konbini_order).status == "pending"


def test_a_confirmation_from_no_store_is_refused(world):
    r = world.client("lawson").json("post", "/api/v1/konbini/payments/confirm", _confirm_body(world, store_code="NOPE1"))
    _error(r, 400, "store_not_found")
    assert Payment.objects.get(order=world.konbini_order).status == "pending"


def test_a_chain_without_a_store_master_may_not_name_another_chains_store(world, make_client):
    from payments.konbini import codes

    seven = make_client("konbini_chain", "セブン", chain="seven_eleven")
    order = world.konbini_order
    number = codes.issue(order=order, chain_code="seven_eleven", actor="test")[0].number
    body = {"payment_number": number, "amount": order.total, "store_code": world.store_code, "paid_at": now_iso(),
            "receipt_number": "R-7"}
    _error(seven.json("post", "/api/v1/konbini/payments/confirm", body), 400, "store_not_found")
    assert seven.json("post", "/api/v1/konbini/payments/confirm", body | {"store_code": "711-0001"}).status_code == 200


@pytest.mark.parametrize("prefecture", ["ZZZ県", "東京", "Tokyo", ""])
def test_a_home_address_outside_the_47_prefectures_is_refused(storefront, prefecture):
    body = order_payload(ListingFactory())
    body["destination"]["prefecture"] = prefecture
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.status_code == 400 and r.json()["field"] == "destination.prefecture"
    assert not Order.objects.exists()


@pytest.mark.parametrize("prefecture", ["北海道", "京都府", "大阪府", "沖縄県"])
def test_each_kind_of_prefecture_name_is_accepted(storefront, prefecture):
    body = order_payload(ListingFactory())
    body["destination"]["prefecture"] = prefecture
    r = storefront.json("post", "/api/v1/orders", body)
    assert r.json().get("code") != "invalid_prefecture"


def test_a_store_in_no_prefecture_is_refused(world):
    r = world.client("lawson").json("put", "/api/v1/stores/LS0002",
                                    {"name": "x", "prefecture": "ZZZ県", "address": "x", "active": True})
    assert _error(r, 400, "invalid_prefecture")["field"] == "prefecture"


@pytest.mark.parametrize("sku", ["a/b c?d#e", "-lead", "日本茶", "a" * 65, "x%00"])
def test_a_sku_outside_the_safe_alphabet_is_refused(seller_client, sku):
    body = {"sku": sku, "title": "お茶", "price": 100, "stock": 1, "fulfilled_by": "seller"}
    r = seller_client.json("post", "/api/v1/listings", body)
    assert r.status_code == 400 and r.json()["field"] == "sku"
    assert not Listing.objects.exists()


def test_a_safe_sku_can_be_patched_by_its_own_path(seller_client):
    body = {"sku": "Tea_01.green-A", "title": "お茶", "price": 100, "stock": 1, "fulfilled_by": "seller"}
    assert seller_client.json("post", "/api/v1/listings", body).status_code == 201
    assert seller_client.json("patch", "/api/v1/listings/Tea_01.green-A", {"price": 120}).json()["price"] == 120


def test_a_control_character_in_any_header_is_400_but_a_tab_is_allowed(storefront):
    assert _error(storefront.get("/api/v1/ping", HTTP_USER_AGENT="curl\x01"), 400, "invalid_characters")["field"] == \
        "User-Agent"
    assert storefront.get("/api/v1/ping", HTTP_USER_AGENT="curl\t8.0").status_code == 200
