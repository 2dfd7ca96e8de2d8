"""Seller closure (seed 003): a request to support with live blockers, worked from the staff
console's checklist; closing revokes the API keys and hides the listings, the orders stay."""

from __future__ import annotations

import pytest

from backoffice.errors import Conflict
from backoffice.models import Partner
from payments.services import refunds
from shop.models import Listing, Order, SellerClosureCheck, SellerClosureRequest
from shop.services import seller_closure
from tests.factories import ListingFactory, order_payload, place
from tests.shop.closure_support import deliver

pytestmark = pytest.mark.django_db

PAYOUT = {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "7654321",
          "holder_kana": "ｼｭｯﾋﾟﾝｼｬ"}
ALL_BLOCKERS = ["active_listings", "platform_inventory", "open_orders", "open_refunds", "payout_account_missing"]


def _request(seller_client, **body):
    r = seller_client.json("post", "/api/v1/seller/closure-requests", {"phone": "03-1234-5678", "comment": "閉鎖希望",
                                                                          **body})
    assert r.status_code == 201, r.json()
    return r.json()


def test_every_blocker_is_computed_live_from_the_sellers_data(seller_client):
    seller = seller_client.partner.seller
    own = ListingFactory(seller=seller, fulfilled_by="seller", stock=3)
    fba = ListingFactory(seller=seller, fulfilled_by="platform", stock=5)
    open_order = place(fba)
    refunded = deliver(place(fba))
    refunds.refund_return(order=refunded, amount=100, actor="test")
    body = _request(seller_client)
    assert body["status"] == "open" and [b["code"] for b in body["blockers"]] == ALL_BLOCKERS
    assert {b["code"]: b["count"] for b in body["blockers"]}["open_orders"] == 1

    # each blocker clears from the data alone
    seller_client.json("patch", f"/api/v1/listings/{own.sku}", {"stock": 0})
    assert "active_listings" not in [b.code for b in seller_closure.blockers(seller)]
    seller_client.json("patch", f"/api/v1/listings/{fba.sku}", {"stock": 0})  # returned / abandoned by the warehouse
    deliver(open_order)
    refunds.process(refunded.refunds.get().pk)
    assert seller_client.json("put", "/api/v1/seller/bank-account", PAYOUT).status_code == 200
    assert seller_closure.blockers(seller) == []


def test_a_second_request_answers_with_the_open_one(seller_client):
    first = _request(seller_client)
    assert _request(seller_client, comment="再送")["id"] == first["id"]
    assert SellerClosureRequest.objects.count() == 1


def test_a_bad_request_is_400_and_writes_nothing(seller_client, storefront):
    r = seller_client.json("post", "/api/v1/seller/closure-requests", {"phone": "abc"})
    assert r.status_code == 400 and r.json()["field"] == "phone"
    assert storefront.json("post", "/api/v1/seller/closure-requests", {"phone": "03-1234-5678"}).status_code == 403
    assert not SellerClosureRequest.objects.exists()


def test_a_payout_account_is_validated_against_the_zengin_list(seller_client):
    bad = seller_client.json("put", "/api/v1/seller/bank-account", {**PAYOUT, "branch_code": "999"})
    assert bad.status_code == 400 and bad.json()["code"] == "branch_not_found"
    assert seller_client.get("/api/v1/seller/bank-account").status_code == 404
    assert seller_client.json("put", "/api/v1/seller/bank-account", PAYOUT).json()["bank_name"]


def _clear_and_request(seller_client) -> SellerClosureRequest:
    seller_client.json("put", "/api/v1/seller/bank-account", PAYOUT)
    _request(seller_client)
    return SellerClosureRequest.objects.get()


def test_a_checklist_item_cannot_be_confirmed_while_its_blocker_stands(seller_client):
    ListingFactory(seller=seller_client.partner.seller, fulfilled_by="seller", stock=1)
    req = _clear_and_request(seller_client)
    with pytest.raises(Conflict) as refused:
        seller_closure.complete_check(req, code="listings_withdrawn", actor="staff:a")
    assert refused.value.code == "closure_blocked" and refused.value.reasons == ["active_listings"]
    seller_closure.complete_check(req, code="payout_account_valid", actor="staff:a")
    assert list(SellerClosureCheck.objects.values_list("code", flat=True)) == ["payout_account_valid"]


def test_closing_needs_every_item_confirmed_then_revokes_keys_and_hides_listings(seller_client, storefront):
    seller = seller_client.partner.seller
    listing = ListingFactory(seller=seller, fulfilled_by="platform", stock=2)
    order = deliver(place(listing))
    seller_client.json("patch", f"/api/v1/listings/{listing.sku}", {"stock": 0})
    req = _clear_and_request(seller_client)
    for code, _label, _behind in seller_closure.CHECKLIST[:-1]:
        seller_closure.complete_check(req, code=code, actor="staff:a")
    with pytest.raises(Conflict) as refused:
        seller_closure.close(req, actor="staff:a")
    assert refused.value.code == "checklist_incomplete"
    seller_closure.complete_check(req, code="payout_account_valid", actor="staff:a")
    seller_closure.close(req, actor="staff:a")

    req.refresh_from_db()
    seller.refresh_from_db()
    assert req.status == "closed" and req.closed_by == "staff:a" and seller.closed_at is not None
    assert not Partner.objects.get(seller=seller).active
    assert seller_client.get("/api/v1/seller/orders").status_code == 401
    assert not Listing.objects.get(pk=listing.pk).visible
    Listing.objects.filter(pk=listing.pk).update(stock=5)  # even restocked, a hidden listing cannot be ordered
    r = storefront.json("post", "/api/v1/orders", order_payload(listing, external_id="cust-2"))
    assert r.status_code == 400 and r.json()["code"] == "listing_not_found"
    assert storefront.get(f"/api/v1/orders/{order.number}").json()["status"] == "delivered"  # its orders stay
    assert Order.objects.filter(lines__listing__seller=seller).count() == 1


def test_closing_is_refused_while_a_blocker_stands_even_with_the_checklist_done(seller_client):
    req = _clear_and_request(seller_client)
    for code, _label, _behind in seller_closure.CHECKLIST:
        seller_closure.complete_check(req, code=code, actor="staff:a")
    place(ListingFactory(seller=seller_client.partner.seller, fulfilled_by="platform", stock=2))  # a new order
    with pytest.raises(Conflict) as refused:
        seller_closure.close(req, actor="staff:a")
    assert refused.value.code == "closure_blocked" and refused.value.reasons == ["platform_inventory", "open_orders"]
    assert Partner.objects.get(seller=seller_client.partner.seller).active
