"""The payment-method matrix of SPEC §2: every reason that applies is named."""

from __future__ import annotations

import pytest

from payments.konbini.chains import KONBINI_MAX_TOTAL
from payments.models import GiftCardEntry
from payments.services import giftcards
from shop.models import Customer, Listing
from tests.factories import ListingFactory, SellerFactory, StoreFactory, order_payload

pytestmark = pytest.mark.django_db


def reasons(client, payload) -> list[str]:
    r = client.json("post", "/api/v1/orders", payload)
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["code"] == "payment_method_unavailable"
    assert body["message"] == "このご注文にはご利用頂けません"
    assert body["field"] == "payment_method"
    return body["reasons"]


def test_card_is_always_offered(storefront):
    listing = ListingFactory(price=KONBINI_MAX_TOTAL + 1, fulfilled_by=Listing.FulfilledBy.SELLER)
    assert storefront.json("post", "/api/v1/orders", order_payload(listing, speed="express")).status_code == 201


def test_konbini_refusal_lists_every_reason_at_once(storefront):
    listing = ListingFactory(price=KONBINI_MAX_TOTAL + 1, fulfilled_by=Listing.FulfilledBy.SELLER)
    assert reasons(storefront, order_payload(listing, method="konbini", speed="scheduled")) == [
        "amount_over_limit", "shipping_speed", "seller_fulfilled", "seller_disabled_konbini"]


def test_konbini_for_a_self_fulfilled_listing_once_the_seller_opted_in(storefront):
    seller = SellerFactory(accept_konbini_self_fulfilled=True)
    listing = ListingFactory(seller=seller, fulfilled_by=Listing.FulfilledBy.SELLER)
    assert storefront.json("post", "/api/v1/orders", order_payload(listing, method="konbini")).status_code == 201


def test_cod_refusal_for_pickup_and_seller_not_opted_in(storefront):
    store = StoreFactory()
    seller_listing = ListingFactory(fulfilled_by=Listing.FulfilledBy.SELLER)
    assert reasons(storefront, order_payload(seller_listing, method="cod",
                                             destination={"type": "pickup_store", "store_code": store.code})) == [
        "pickup_destination", "seller_fulfilled", "seller_disabled_cod"]


def test_cod_refused_for_a_digital_item(storefront):
    assert reasons(storefront, order_payload(ListingFactory(digital=True), method="cod")) == ["digital_item"]


def test_cod_for_a_self_fulfilled_listing_once_the_seller_opted_in(storefront):
    seller = SellerFactory(accept_cod_self_fulfilled=True)
    listing = ListingFactory(seller=seller, fulfilled_by=Listing.FulfilledBy.SELLER)
    assert storefront.json("post", "/api/v1/orders", order_payload(listing, method="cod")).status_code == 201


def test_gift_card_needs_a_covering_balance(storefront):
    listing = ListingFactory(price=1000)
    customer = Customer.objects.create(external_id="cust-1", email="a@example.jp", name="a")
    giftcards.credit(customer=customer, amount=999, kind=GiftCardEntry.Kind.PURCHASE, reference="GC-1")
    assert reasons(storefront, order_payload(listing, method="gift_card")) == ["balance_insufficient"]


def test_gift_card_refused_while_frozen(storefront):
    listing = ListingFactory(price=1000)
    customer = Customer.objects.create(external_id="cust-1", email="a@example.jp", name="a")
    giftcards.credit(customer=customer, amount=5000, kind=GiftCardEntry.Kind.PURCHASE, reference="GC-1")
    giftcards.set_frozen(customer=customer, frozen=True, reason="不正利用の疑い")
    assert reasons(storefront, order_payload(listing, method="gift_card")) == ["balance_frozen"]


def test_gift_card_without_any_balance(storefront):
    assert reasons(storefront, order_payload(ListingFactory(), method="gift_card")) == ["balance_insufficient"]
