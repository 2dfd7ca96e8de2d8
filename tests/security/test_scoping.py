"""Tenant isolation by construction (issue 12): every partner-facing read goes through one
``*_for_partner`` scope per resource, and each finding of the attack run stays fixed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from backoffice.models import IdempotencyRecord, Partner
from payments.models import Refund
from pickup.models import Pickup, PickupAttempt
from shop.models import Order, OrderStatus
from tests.factories import StoreFactory, place
from tests.security.world import World, now_iso, tracking_number

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

# The partner API's view modules: they may not touch a model manager or an unscoped lookup.
VIEW_MODULES = ["shop/api/views.py", "shop/api/closure.py", "receipts/api.py",
                "payments/api.py", "payments/konbini/api.py", "pickup/api/views.py",
                "fraud/api/views.py", "backoffice/api/views.py", "webhooks/api.py"]
UNSCOPED_LOOKUPS = {("orders", "get_order"), ("customers", "get"), ("shipments", "get_by_tracking_number")}
# PingView, the benchmark floor, reads the calling partner's own row by its primary key.
ALLOWED = {("backoffice/api/views.py", "Partner")}


def _violations(module: str) -> list[str]:
    tree = ast.parse((ROOT / module).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            owner = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            if (module, owner) not in ALLOWED:
                found.append(f"{module}:{node.lineno} {owner}.objects")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and (node.value.id, node.attr) in UNSCOPED_LOOKUPS:
            found.append(f"{module}:{node.lineno} {node.value.id}.{node.attr} (use shop.scopes)")
    return found


def test_the_api_views_reach_data_only_through_the_partner_scopes():
    assert [v for module in VIEW_MODULES for v in _violations(module)] == []


def test_the_scope_check_catches_an_unscoped_manager(tmp_path, monkeypatch):
    bad = tmp_path / "bad_views.py"
    bad.write_text("from shop.models import Order\n\ndef get(n):\n    return Order.objects.get(number=n)\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _violations("bad_views.py") == ["bad_views.py:4 Order.objects"]


# --- carriers have an identity -----------------------------------------------------------------

@pytest.fixture
def world(make_client, anon):
    return World(make_client, anon)


def test_another_carrier_cannot_return_a_parcel_it_does_not_carry(world):
    order = Order.objects.get(shipment__tracking_number=world.shipped_tracking)
    body = {"type": "returned", "occurred_at": now_iso(), "location": "佐川 東京営業所"}
    r = world.client("sagawa").json("post", f"/api/v1/shipments/{world.shipped_tracking}/events", body)
    unknown = world.client("sagawa").json("post", f"/api/v1/shipments/{tracking_number()}/events", body)
    assert r.status_code == 404 and r.json() == unknown.json()  # exactly as an unknown parcel
    assert r.json()["code"] == "shipment_not_found"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and not Refund.objects.filter(order=order).exists()
    own = world.client("yamato").json("post", f"/api/v1/shipments/{world.shipped_tracking}/events", body)
    assert own.status_code == 201 and own.json()["order_status"] == "cancelled"


def test_create_partner_gives_a_carrier_its_code(capsys):
    call_command("create_partner", "--kind", "carrier", "--name", "佐川急便", "--carrier", "sagawa")
    assert Partner.objects.get(kind="carrier").carrier == "sagawa"
    with pytest.raises(CommandError):
        call_command("create_partner", "--kind", "carrier", "--name", "どこか")
    with pytest.raises(CommandError):
        call_command("create_partner", "--kind", "warehouse", "--name", "倉庫", "--carrier", "yamato")


# --- chains only reach their own parcels -----------------------------------------------------

def test_another_chains_failed_attempts_never_lock_a_parcel(world):
    parcel = world.parcel
    familymart_store = StoreFactory(chain="familymart", code="FM0001")
    body = {"store_code": familymart_store.code, "inquiry_number": parcel.inquiry_number,
            "auth_number": parcel.auth_number}
    for _ in range(8):
        r = world.client("familymart").json("post", "/api/v1/pickup/tickets", body)
        assert r.status_code == 404 and r.json()["code"] == "pickup_not_found"
    parcel.refresh_from_db()
    assert (parcel.consecutive_failures, parcel.locked) == (0, False)
    assert PickupAttempt.objects.filter(store=familymart_store, pickup__isnull=True, outcome="unknown_number").count() == 8
    at_lawson = {"store_code": world.store_code, "inquiry_number": parcel.inquiry_number,
                 "auth_number": parcel.auth_number}
    assert world.client("lawson").json("post", "/api/v1/pickup/tickets", at_lawson).status_code == 201


def test_wrong_store_attempts_within_the_chain_still_count(world):
    parcel = world.parcel
    other = StoreFactory(chain="lawson")
    for _ in range(5):
        terminal_body = {"store_code": other.code, "inquiry_number": parcel.inquiry_number,
                         "auth_number": parcel.auth_number}
        world.client("lawson").json("post", "/api/v1/pickup/tickets", terminal_body)
    assert Pickup.objects.get(pk=parcel.pk).locked


# --- sellers see only their lines ------------------------------------------------------------

def test_a_seller_of_a_shared_platform_order_sees_only_its_lines_and_no_recipient_contact(world):
    path = f"/api/v1/orders/{world.platform_order}"
    seller_a = world.client("seller_a").json("get", path).json()
    seller_b = world.client("seller_b").json("get", path).json()
    full = world.client("storefront_a").json("get", path).json()
    warehouse = world.client("warehouse_a").json("get", path).json()
    a_sku, b_sku = (listing.sku for listing in world.shared_listings)
    assert [line["sku"] for line in full["lines"]] == [a_sku, b_sku]
    assert [line["sku"] for line in seller_a["lines"]] == [a_sku]
    assert [line["sku"] for line in seller_b["lines"]] == [b_sku]
    for seen in (seller_a, seller_b):
        assert seen["destination"] == {"type": "home", "prefecture": "東京都", "postal_code": None, "city": None,
                                       "address_line": None, "recipient_name": None, "phone": None}
        assert set(seen) == set(full)  # the same shape
    assert warehouse["destination"] == full["destination"] and full["destination"]["phone"] == "+819012345678"


def test_a_seller_shipping_its_own_order_sees_where_it_goes(world):
    seen = world.client("seller_a").json("get", f"/api/v1/orders/{world.self_order}").json()
    assert seen["destination"]["recipient_name"] == "山田太郎" and len(seen["lines"]) == 1


def test_seller_orders_lists_only_orders_with_the_sellers_lines(world):
    own, shared = world.self_order, world.platform_order
    other_only = place(world.shared_listings[1], external_id="cust-b").number
    listed = [o["order_number"] for o in world.client("seller_a").json("get", "/api/v1/seller/orders").json()["results"]]
    assert set(listed) == {own, shared} and other_only not in listed


# --- Idempotency-Key is scoped to the request path ---------------------------------------------

def _delivered_order(listing) -> Order:
    order = place(listing, quantity=2)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    return order


def test_the_same_idempotency_key_on_two_orders_is_two_returns(world):
    a, b = _delivered_order(world.shared_listings[0]), _delivered_order(world.shared_listings[0])
    storefront = world.client("storefront_a")
    first = storefront.json("post", f"/api/v1/orders/{a.number}/returns", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="k-1")
    second = storefront.json("post", f"/api/v1/orders/{b.number}/returns", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["refund_id"] != second.json()["refund_id"]
    assert Refund.objects.filter(order=b, amount=500).count() == 1
    replay = storefront.json("post", f"/api/v1/orders/{a.number}/returns", {"amount": 500}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert IdempotencyRecord.objects.count() == 2


def test_an_idempotency_key_is_per_partner(world):
    body = {"type": "unauthorized_order", "customer_external_id": world.customer, "order_numbers": [world.self_order]}
    a = world.client("storefront_a").json("post", "/api/v1/fraud/reports", body, HTTP_IDEMPOTENCY_KEY="same")
    b = world.client("storefront_b").json("post", "/api/v1/fraud/reports", body, HTTP_IDEMPOTENCY_KEY="same")
    assert a.status_code == b.status_code == 201 and "Idempotent-Replayed" not in b
