"""Customer closure (退会, seed 003; API.md "Account closure"): the check lists every blocker and
what is forfeited; the closure forfeits with ledger entries, revokes sessions and is 410 afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import get_resolver

from backoffice.timeutil import JST
from fraud.services import reports
from payments.models import GiftCardAccount, GiftCardEntry, PointsAccount, PointsEntry
from payments.services import refunds
from shop.models import Customer, CustomerClosure, Order
from shop.services import closure, orders
from tests.factories import ListingFactory, order_payload, place
from tests.shop.closure_support import deliver, ship, with_personal_data

pytestmark = pytest.mark.django_db


def _check(client, external_id="cust-1"):
    r = client.get(f"/api/v1/customers/{external_id}/closure-check")
    assert r.status_code == 200, r.json()
    return r.json()


def test_a_customer_with_nothing_open_can_close_and_is_warned_about_receipts(storefront):
    order = deliver(place(ListingFactory()))
    body = _check(storefront)
    assert body["can_close"] is True and body["blockers"] == []
    assert body["forfeits"] == {"gift_card_balance": 0, "points": 0}
    assert [w["code"] for w in body["warnings"]] == ["receipts_unavailable"]
    # the receipts app names the paid orders whose receipt could still be printed (issue 18, seed 003)
    assert "領収書" in body["warnings"][0]["message"] and order.number in body["warnings"][0]["message"]


def test_an_order_not_yet_delivered_blocks_closure_shipped_or_not(storefront):
    processing = place(ListingFactory())
    shipped = place(ListingFactory())
    ship(shipped)
    body = _check(storefront)
    assert body["can_close"] is False
    assert body["blockers"] == [{"code": "unshipped_orders", "message": closure.BLOCKER_MESSAGES["unshipped_orders"],
                                 "order_numbers": [processing.number, shipped.number]}]


def test_a_konbini_payment_awaiting_cash_blocks_closure(storefront):
    order = place(ListingFactory(), method="konbini")
    assert [(b["code"], b["order_numbers"]) for b in _check(storefront)["blockers"]] == [
        ("pending_payment", [order.number])]


def test_a_refund_in_flight_blocks_closure(storefront):
    order = deliver(place(ListingFactory(price=2_000)))
    refunds.refund_return(order=order, amount=500, actor="storefront:test")  # processed after commit: still requested
    assert [(b["code"], b["order_numbers"]) for b in _check(storefront)["blockers"]] == [
        ("pending_refunds", [order.number])]


def test_an_open_fraud_report_blocks_closure(storefront):
    order = deliver(place(ListingFactory()))
    reports.open_report(type="other", customer=order.customer, orders=[order], actor="staff:test")
    assert [(b["code"], b["order_numbers"]) for b in _check(storefront)["blockers"]] == [
        ("open_report", [order.number])]


def test_every_blocker_is_listed_and_a_closure_is_409_with_all_reasons_and_writes_nothing(storefront):
    delivered = deliver(place(ListingFactory(price=2_000)))
    place(ListingFactory())
    place(ListingFactory(), method="konbini")
    refunds.refund_return(order=delivered, amount=100, actor="storefront:test")
    reports.open_report(type="other", customer=delivered.customer, actor="staff:test")
    codes = ["unshipped_orders", "pending_payment", "pending_refunds", "open_report"]
    assert [b["code"] for b in _check(storefront)["blockers"]] == codes
    r = storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": True})
    assert r.status_code == 409 and r.json()["code"] == "closure_blocked" and r.json()["reasons"] == codes
    customer = Customer.objects.get(external_id="cust-1")
    assert customer.closed_at is None and customer.session_epoch == 0 and not CustomerClosure.objects.exists()


def test_the_check_shows_the_forfeits_and_closing_needs_their_confirmation(storefront):
    deliver(place(ListingFactory()))
    with_personal_data("cust-1")
    body = _check(storefront)
    assert body["forfeits"] == {"gift_card_balance": 4_500, "points": 60}
    assert "balances_not_transferable" in [w["code"] for w in body["warnings"]]
    for refused in ({}, {"confirm_forfeit": False}):
        r = storefront.json("post", "/api/v1/customers/cust-1/closure", refused)
        assert r.status_code == 400 and r.json()["code"] == "confirmation_required"
        assert r.json()["field"] == "confirm_forfeit"
    assert storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": "yes"}).status_code == 400
    assert Customer.objects.get(external_id="cust-1").closed_at is None
    assert GiftCardAccount.objects.get().balance == 4_500 and PointsAccount.objects.get().balance == 60


def test_closing_forfeits_both_balances_with_ledger_entries_and_revokes_the_sessions(storefront):
    deliver(place(ListingFactory()))
    epoch = with_personal_data("cust-1").session_epoch
    r = storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": True})
    assert r.status_code == 200, r.json()
    assert r.json()["forfeited"] == {"gift_card_balance": 4_500, "points": 60}
    customer = Customer.objects.get(external_id="cust-1")
    assert customer.closed_at is not None and customer.session_epoch == epoch + 1
    forfeit = GiftCardEntry.objects.get(kind="forfeit")
    assert forfeit.amount == -4_500 and GiftCardAccount.objects.get().balance == 0
    assert PointsEntry.objects.get(kind="forfeit").points == -60 and PointsAccount.objects.get().balance == 0
    done = CustomerClosure.objects.get(customer=customer)
    assert (done.forfeited_gift_card, done.forfeited_points, done.erased_at) == (4_500, 60, None)


def test_nothing_to_forfeit_needs_no_confirmation(storefront):
    deliver(place(ListingFactory()))
    assert storefront.json("post", "/api/v1/customers/cust-1/closure", {}).status_code == 200


def _customer_endpoints() -> list[tuple[str, str]]:
    """Every (method, path) of the API whose path carries a customer's external id."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif "<str:external_id>" in prefix + str(p.pattern):
                view = p.callback.view_class
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method):
                        found.append((method, "/" + (prefix + str(p.pattern)).replace("<str:external_id>", "cust-1")))

    walk(get_resolver().url_patterns)
    return found


def test_every_endpoint_of_a_closed_external_id_answers_410_customer_closed(storefront):
    number = deliver(place(ListingFactory())).number
    assert storefront.json("post", "/api/v1/customers/cust-1/closure", {}).status_code == 200
    endpoints = _customer_endpoints()
    assert len(endpoints) >= 14  # orders, messages, gift card (+credits, charges), points, bank account (get, put),
    # login events, callback requests, the customer, password reset, closure check, closure
    for method, path in endpoints:
        r = storefront.json(method, path, {})
        assert (r.status_code, r.json()["code"]) == (410, "customer_closed"), (method, path)
    order = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()))
    assert (order.status_code, order.json()["code"]) == (410, "customer_closed")
    report = storefront.json("post", "/api/v1/fraud/reports", {"type": "unauthorized_order",
                             "customer_external_id": "cust-1", "order_numbers": [number], "secure_account": False})
    assert (report.status_code, report.json()["code"]) == (410, "customer_closed")
    assert Order.objects.count() == 1


def test_the_same_email_registers_again_as_a_new_customer_with_no_history(storefront):
    deliver(place(ListingFactory()))
    with_personal_data("cust-1")
    storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": True})
    payload = order_payload(ListingFactory(), external_id="cust-2")
    payload["customer"]["email"] = "cust-1@example.jp"  # the closed account's e-mail
    number = storefront.json("post", "/api/v1/orders", payload).json()["order_number"]
    old, new = Customer.objects.get(external_id="cust-1"), Customer.objects.get(external_id="cust-2")
    assert new.pk != old.pk and new.email == "cust-1@example.jp" and new.closed_at is None
    history = storefront.get("/api/v1/customers/cust-2/orders").json()["results"]
    assert [o["order_number"] for o in history] == [number]
    assert storefront.get("/api/v1/customers/cust-2/gift-card").json() == {"balance": 0, "frozen": False, "entries": []}
    assert storefront.get("/api/v1/customers/cust-2/points").json() == {"balance": 0, "entries": []}
    assert _check(storefront, "cust-2")["blockers"][0]["order_numbers"] == [number]


def test_books_are_kept_for_the_retention_period_which_is_a_setting(settings):
    assert settings.BOOKS_RETENTION_YEARS == 7  # issue 15: Japanese tax law keeps the books 7 years
    # the JST date counts: 2026-11-30 15:30 UTC is already 1 December in Tokyo
    assert closure.books_retained_until(datetime(2026, 11, 30, 15, 30, tzinfo=UTC)) == date(2033, 12, 1)
    assert closure.books_retained_until(datetime(2026, 12, 1, 0, 30, tzinfo=JST)) == date(2033, 12, 1)
    assert closure.books_retained_until(datetime(2028, 2, 29, 12, 0, tzinfo=JST)) == date(2035, 2, 28)
    settings.BOOKS_RETENTION_YEARS = 10
    assert closure.books_retained_until(datetime(2026, 12, 1, 0, 30, tzinfo=JST)) == date(2036, 12, 1)


def test_the_closure_check_takes_a_fixed_number_of_queries(storefront, django_assert_max_num_queries):
    listing = ListingFactory(stock=100)
    for _ in range(2):
        place(listing)
    with django_assert_max_num_queries(9):  # auth, customer, then the check's seven reads (one: receipts)
        assert not _check(storefront)["can_close"]
    for _ in range(10):
        ship(place(listing))
    with django_assert_max_num_queries(9):
        assert len(_check(storefront)["blockers"][0]["order_numbers"]) == 12


def test_the_check_warns_about_digital_content_and_prime_without_blocking(storefront):
    payload = order_payload(ListingFactory(digital=True))
    payload["customer"]["prime"] = True
    assert storefront.json("post", "/api/v1/orders", payload).json()["status"] == "delivered"  # streamed at once
    body = _check(storefront)
    assert body["can_close"] is True
    assert [w["code"] for w in body["warnings"]] == ["receipts_unavailable", "digital_content_unavailable",
                                                     "prime_membership_ends"]


def test_a_return_after_closure_never_refunds_to_the_forfeited_gift_card_balance(storefront):
    from payments.models import Refund

    konbini = place(ListingFactory(price=2_000, sku="TEA-K"), method="konbini")
    orders.mark_paid(konbini, amount=konbini.total, actor="konbini:lawson")
    Order.objects.filter(pk=konbini.pk).update(status="delivered")
    card = deliver(place(ListingFactory(price=1_500, sku="TEA-C")))
    assert storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": True}).status_code == 200
    refused = storefront.json("post", f"/api/v1/orders/{konbini.number}/returns", {"amount": 500})
    assert (refused.status_code, refused.json()["code"]) == (409, "refund_to_closed_account")
    assert not Refund.objects.filter(order=konbini).exists()
    to_card = storefront.json("post", f"/api/v1/orders/{card.number}/returns", {"amount": 500})
    assert to_card.status_code == 201 and Refund.objects.get(order=card).method == "card"


def test_a_closed_account_gets_no_receipt_any_more(storefront):
    order = deliver(place(ListingFactory(price=1_500)))
    assert storefront.json("get", f"/api/v1/orders/{order.number}/receipt.json").status_code == 200
    assert storefront.json("post", "/api/v1/customers/cust-1/closure", {"confirm_forfeit": True}).status_code == 200
    r = storefront.json("get", f"/api/v1/orders/{order.number}/receipt.json")
    assert (r.status_code, r.json()["code"]) == (410, "customer_closed")
