"""The authorization matrix: every route of the partner API × every identity (no key, and two
tenants of each partner kind) with the status it must get (issue 12).

``CASES`` is the matrix. An identity a case does not name gets the default: 401 without a key,
403 for a partner of a kind the endpoint does not serve. ``test_every_route_has_a_row`` reads the
URL conf and fails when a route (method + path) is added without a row here, or a row names a
route that no longer exists. The closing note of issue 12 prints this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from backoffice.timeutil import now
from payments.konbini import confirmations
from tests.factories import CustomerFactory, order_payload
from tests.security.world import ALL_IDENTITIES, ANONYMOUS, World, build_world, now_iso, tracking_number

pytestmark = pytest.mark.django_db

STOREFRONTS = {"storefront_a", "storefront_b"}
SELLERS = {"seller_a", "seller_b"}
WAREHOUSES = {"warehouse_a", "warehouse_b"}
PARTNERS = [i for i in ALL_IDENTITIES if i != ANONYMOUS]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    route: str  # the URL conf's pattern under /api/v1/
    request: Callable[[World], tuple[str, dict | None]]  # → (path under /api/v1/, JSON body)
    expect: dict[str, int]  # identity → status; unnamed identities: 401 (no key) / 403 (other kind)

    def status_for(self, identity: str) -> int:
        if identity in self.expect:
            return self.expect[identity]
        return 401 if identity == ANONYMOUS else 403


def both(identities: set[str], status: int) -> dict[str, int]:
    return dict.fromkeys(identities, status)


def _fresh_customer() -> str:
    """A customer with no orders (nothing blocks its closure)."""
    return CustomerFactory(external_id="cust-closing").external_id


def _order_for_storefront(w: World):
    return "orders", order_payload(w.self_listing, external_id="cust-new")


def _instructions(w: World):
    assert w.payment_number  # a code has been issued
    return f"orders/{w.konbini_order.number}/konbini-payment", None


def _confirm(w: World):
    total = w.konbini_order.total
    return "konbini/payments/confirm", {"payment_number": w.payment_number, "check_code": "8888", "amount": total,
                                        "store_code": w.store_code, "paid_at": now_iso(), "receipt_number": "R-1"}


def _cancel_preliminary(w: World):
    """A Lawson receipt (速報) to void: the confirmation goes through first."""
    path, body = _confirm(w)
    confirmations.confirm(chain_code="lawson", payment_number=body["payment_number"], check_code_value="8888",
                          actor="test", cash=confirmations.CashPayment(
                              amount=body["amount"], store_code=body["store_code"], paid_at=now(),
                              receipt_number="R-1"))
    return "konbini/payments/cancel-preliminary", {"payment_number": body["payment_number"], "receipt_number": "R-1",
                                                   "cancelled_at": now_iso()}


def _settlement(w: World):
    return "konbini/settlements", {"settlement_date": now_iso()[:10], "items": []}


CASES: list[Case] = [
    Case("ping", "GET", "ping", lambda w: ("ping", None), both(set(PARTNERS), 200)),
    # --- storefront: orders and customers
    Case("place order", "POST", "orders", _order_for_storefront, both(STOREFRONTS, 201)),
    Case("read a self-fulfilled order", "GET", "orders/<str:number>", lambda w: (f"orders/{w.self_order}", None),
         {**both(STOREFRONTS, 200), "seller_a": 200, "seller_b": 404, **both(WAREHOUSES, 404)}),
    Case("read a platform order shared by two sellers", "GET", "orders/<str:number>",
         lambda w: (f"orders/{w.platform_order}", None),
         {**both(STOREFRONTS, 200), **both(SELLERS, 200), **both(WAREHOUSES, 200)}),
    Case("cancel", "POST", "orders/<str:number>/cancel",
         lambda w: (f"orders/{w.self_order}/cancel", {"reason": "customer_request"}), both(STOREFRONTS, 200)),
    Case("ship a self-fulfilled order", "POST", "orders/<str:number>/shipments",
         lambda w: (f"orders/{w.self_order}/shipments", {"carrier": "yamato", "tracking_number": tracking_number()}),
         {"seller_a": 201, "seller_b": 404, **both(WAREHOUSES, 404)}),
    Case("ship a platform order", "POST", "orders/<str:number>/shipments",
         lambda w: (f"orders/{w.platform_order}/shipments",
                    {"carrier": "yamato", "tracking_number": tracking_number()}),
         {**both(WAREHOUSES, 201), **both(SELLERS, 403)}),
    Case("carrier event", "POST", "shipments/<str:tracking_number>/events",
         lambda w: (f"shipments/{w.shipped_tracking}/events",
                    {"type": "in_transit", "occurred_at": now_iso(), "location": "東京ベース店"}),
         {"yamato": 201, "sagawa": 404}),
    Case("customer's orders", "GET", "customers/<str:external_id>/orders",
         lambda w: (f"customers/{w.customer}/orders", None), both(STOREFRONTS, 200)),
    Case("customer's messages", "GET", "customers/<str:external_id>/messages",
         lambda w: (f"customers/{w.customer}/messages", None), both(STOREFRONTS, 200)),
    Case("gift card", "GET", "customers/<str:external_id>/gift-card",
         lambda w: (f"customers/{w.customer}/gift-card", None), both(STOREFRONTS, 200)),
    Case("gift card credit", "POST", "customers/<str:external_id>/gift-card/credits",
         lambda w: (f"customers/{w.customer}/gift-card/credits", {"amount": 1000, "reference": "GC-1"}),
         both(STOREFRONTS, 201)),
    Case("call-back request", "POST", "customers/<str:external_id>/callback-requests",
         lambda w: (f"customers/{w.customer}/callback-requests", {"phone": "090-1234-5678", "topic": "配送"}),
         both(STOREFRONTS, 201)),
    Case("bank account (none yet)", "GET", "customers/<str:external_id>/bank-account",
         lambda w: (f"customers/{w.customer}/bank-account", None), both(STOREFRONTS, 404)),
    Case("set bank account", "PUT", "customers/<str:external_id>/bank-account",
         lambda w: (f"customers/{w.customer}/bank-account",
                    {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                     "account_number": "1234567", "holder_kana": "ヤマダタロウ"}), both(STOREFRONTS, 200)),
    Case("receipt (PDF)", "GET", "orders/<str:number>/receipt",
         lambda w: (f"orders/{w.self_order}/receipt", None), both(STOREFRONTS, 200)),
    Case("receipt (JSON)", "GET", "orders/<str:number>/receipt.json",
         lambda w: (f"orders/{w.self_order}/receipt.json", None), both(STOREFRONTS, 200)),
    Case("gift-card charge", "POST", "customers/<str:external_id>/gift-card/charges",
         lambda w: (f"customers/{w.customer}/gift-card/charges", {"amount": 1000, "reference": "CH-1"}),
         both(STOREFRONTS, 201)),
    Case("points", "GET", "customers/<str:external_id>/points",
         lambda w: (f"customers/{w.customer}/points", None), both(STOREFRONTS, 200)),
    Case("closure check", "GET", "customers/<str:external_id>/closure-check",
         lambda w: (f"customers/{w.customer}/closure-check", None), both(STOREFRONTS, 200)),
    Case("close an account with nothing pending", "POST", "customers/<str:external_id>/closure",
         lambda w: (f"customers/{_fresh_customer()}/closure", {"confirm_forfeit": True}), both(STOREFRONTS, 200)),
    Case("return of an undelivered order", "POST", "orders/<str:number>/returns",
         lambda w: (f"orders/{w.self_order}/returns", {"amount": 100}), both(STOREFRONTS, 409)),
    Case("choose a konbini chain", "POST", "orders/<str:number>/konbini-payment",
         lambda w: (f"orders/{w.konbini_order.number}/konbini-payment", {"chain": "familymart"}), both(STOREFRONTS, 201)),
    Case("payment instructions", "GET", "orders/<str:number>/konbini-payment",
         _instructions, both(STOREFRONTS, 200)),
    Case("customer security state", "GET", "customers/<str:external_id>",
         lambda w: (f"customers/{w.customer}", None), both(STOREFRONTS, 200)),
    Case("login event", "POST", "customers/<str:external_id>/login-events",
         lambda w: (f"customers/{w.customer}/login-events",
                    {"occurred_at": now_iso(), "ip": "203.0.113.5", "user_agent": "UA", "device_id": "d-1"}),
         both(STOREFRONTS, 201)),
    Case("password reset with a wrong token", "POST", "customers/<str:external_id>/password-reset",
         lambda w: (f"customers/{w.customer}/password-reset", {"token": "not-a-token"}), both(STOREFRONTS, 404)),
    Case("unauthorized-order report", "POST", "fraud/reports",
         lambda w: ("fraud/reports", {"type": "unauthorized_order", "customer_external_id": w.customer,
                                      "order_numbers": [w.self_order]}),
         {**both(STOREFRONTS, 201), **both(SELLERS, 400)}),
    Case("COD harassment report", "POST", "fraud/reports",
         lambda w: ("fraud/reports", {"type": "cod_harassment", "order_number": w.self_order, "description": "x"}),
         {**both(STOREFRONTS, 400), "seller_a": 201, "seller_b": 404}),
    # --- seller
    Case("create listing", "POST", "listings",
         lambda w: ("listings", {"sku": "NEW-1", "title": "新商品", "price": 500, "stock": 3,
                                 "fulfilled_by": "seller", "digital": False}), both(SELLERS, 201)),
    Case("update listing", "PATCH", "listings/<str:sku>", lambda w: (f"listings/{w.self_sku}", {"price": 1500}),
         {"seller_a": 200, "seller_b": 404}),
    Case("seller settings", "GET", "seller/settings", lambda w: ("seller/settings", None), both(SELLERS, 200)),
    Case("change seller settings", "PATCH", "seller/settings",
         lambda w: ("seller/settings", {"accept_cod_self_fulfilled": True}), both(SELLERS, 200)),
    Case("seller's orders", "GET", "seller/orders", lambda w: ("seller/orders", None), both(SELLERS, 200)),
    Case("seller closure request", "POST", "seller/closure-requests",
         lambda w: ("seller/closure-requests", {"phone": "090-1234-5678", "comment": "閉店します"}), both(SELLERS, 201)),
    Case("seller payout account (none yet)", "GET", "seller/bank-account", lambda w: ("seller/bank-account", None),
         both(SELLERS, 404)),
    Case("set seller payout account", "PUT", "seller/bank-account",
         lambda w: ("seller/bank-account", {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
                                            "account_number": "1234567", "holder_kana": "ヤマダタロウ"}),
         both(SELLERS, 200)),
    # --- konbini chain
    Case("payment lookup", "POST", "konbini/payments/lookup",
         lambda w: ("konbini/payments/lookup", {"payment_number": w.payment_number, "check_code": "8888"}),
         {"lawson": 200, "familymart": 404}),
    Case("payment confirmation", "POST", "konbini/payments/confirm", _confirm, {"lawson": 200, "familymart": 404}),
    Case("preliminary report voided (速報取消)", "POST", "konbini/payments/cancel-preliminary", _cancel_preliminary,
         {"lawson": 200, "familymart": 404}),
    # Each chain reconciles its own day: another chain's numbers are unknown to it (no_preliminary).
    Case("final report (確報)", "POST", "konbini/settlements", _settlement, {"lawson": 200, "familymart": 200}),
    Case("store master", "PUT", "stores/<str:store_code>",
         lambda w: (f"stores/{w.store_code}", {"name": "ローソン 本店", "prefecture": "東京都", "address": "千代田区1-1",
                                               "active": True}), {"lawson": 200, "familymart": 403}),
    Case("pickup ticket", "POST", "pickup/tickets",
         lambda w: ("pickup/tickets", {"store_code": w.store_code, "inquiry_number": w.parcel.inquiry_number,
                                       "auth_number": w.parcel.auth_number}), {"lawson": 201, "familymart": 404}),
    Case("redeem a ticket", "POST", "pickup/tickets/<str:ticket_number>/redeem",
         lambda w: (f"pickup/tickets/{w.ticket_number}/redeem", {"store_code": w.store_code}),
         {"lawson": 200, "familymart": 404}),
    # --- webhooks: every kind, its own endpoints only (storefront A owns the one the requests name)
    Case("register a webhook endpoint", "POST", "webhook-endpoints",
         lambda w: ("webhook-endpoints", {"url": "https://hooks.example.jp/x", "events": ["order.paid"]}),
         {**both(STOREFRONTS | SELLERS | WAREHOUSES, 201), **both({"lawson", "familymart", "yamato", "sagawa"}, 400)}),
    Case("list webhook endpoints", "GET", "webhook-endpoints", lambda w: ("webhook-endpoints", None),
         both(set(PARTNERS), 200)),
    Case("delete a webhook endpoint", "DELETE", "webhook-endpoints/<str:endpoint_id>",
         lambda w: (f"webhook-endpoints/{w.webhook.pk}", None), {**both(set(PARTNERS), 404), "storefront_a": 200}),
    Case("ping a webhook endpoint", "POST", "webhook-endpoints/<str:endpoint_id>/test",
         lambda w: (f"webhook-endpoints/{w.webhook.pk}/test", None), {**both(set(PARTNERS), 404), "storefront_a": 202}),
    Case("rotate a webhook secret", "POST", "webhook-endpoints/<str:endpoint_id>/rotate-secret",
         lambda w: (f"webhook-endpoints/{w.webhook.pk}/rotate-secret", {}),
         {**both(set(PARTNERS), 404), "storefront_a": 200}),
    Case("webhook deliveries", "GET", "webhook-endpoints/<str:endpoint_id>/deliveries",
         lambda w: (f"webhook-endpoints/{w.webhook.pk}/deliveries", None),
         {**both(set(PARTNERS), 404), "storefront_a": 200}),
    Case("redeliver a webhook event", "POST", "webhook-deliveries/<str:event_id>/redeliver",
         lambda w: (f"webhook-deliveries/{w.webhook_event_id}/redeliver", None),
         {**both(set(PARTNERS), 404), "storefront_a": 202}),
]


def _api_routes() -> set[tuple[str, str]]:
    """(method, pattern) of every view under /api/v1/ in the URL conf."""
    found: set[tuple[str, str]] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                full = prefix + str(p.pattern)
                view = getattr(p.callback, "view_class", None)
                if not full.startswith("api/v1/") or view is None:
                    continue
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        found.add((method.upper(), full.removeprefix("api/v1/")))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_has_a_row():
    covered = {(case.method, case.route) for case in CASES}
    routes = _api_routes()
    assert routes - covered == set(), "routes without a row in the authorization matrix"
    assert covered - routes == set(), "rows for routes that do not exist"


@pytest.mark.parametrize("identity", ALL_IDENTITIES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_authorization_matrix(make_client, anon, case: Case, identity: str):
    world = build_world(make_client, anon)
    path, body = case.request(world)
    response = world.client(identity).json(case.method.lower(), f"/api/v1/{path}", body)
    assert response.status_code == case.status_for(identity), response.content[:300]
    # Every answer is JSON, but a receipt itself (a PDF).
    pdf = case.route.endswith("/receipt") and response.status_code == 200
    assert response["Content-Type"].startswith("application/pdf" if pdf else "application/json")
