"""POST /orders and GET /orders/{n} through the HTTP stack (API.md "Storefront")."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from payments.models import GiftCardEntry, Payment, SandboxGatewayCapture
from payments.services import giftcards
from shop.jobs import send_pending_messages
from shop.models import Customer, Listing, Message, Order
from tests.factories import HOME, ListingFactory, SellerFactory, StoreFactory, order_payload, place

pytestmark = pytest.mark.django_db


def test_card_order_is_captured_reserved_and_confirmed(storefront, django_capture_on_commit_callbacks):
    listing = ListingFactory(price=1200, stock=3)
    with django_capture_on_commit_callbacks(execute=True):
        r = storefront.json("post", "/api/v1/orders", order_payload(listing, quantity=2))
    assert r.status_code == 201, r.json()
    body = r.json()
    assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", body["order_number"])
    assert body["status"] == "processing" and body["total"] == 2400 and body["payment_deadline"] is None
    listing.refresh_from_db()
    assert listing.stock == 1
    payment = Payment.objects.get(order__number=body["order_number"])
    assert (payment.status, payment.captured_amount) == ("paid", 2400)
    assert send_pending_messages() == {"sent": 1}
    assert [m.subject for m in mail.outbox] == [f"ご注文の確認 注文番号 {body['order_number']}"]


def test_order_resource_has_the_contract_shape(storefront):
    listing = ListingFactory(price=500)
    number = storefront.json("post", "/api/v1/orders", order_payload(listing)).json()["order_number"]
    body = storefront.get(f"/api/v1/orders/{number}").json()
    assert set(body) >= {"order_number", "status", "cancellation_reason", "total", "customer_external_id",
                         "shipping_speed", "destination", "lines", "payment", "shipment", "pickup", "refunds",
                         "timeline", "risk_score"}
    assert body["lines"] == [{"sku": listing.sku, "title": listing.title, "quantity": 1, "unit_price": 500}]
    assert body["destination"]["postal_code"] == "100-0001" and body["destination"]["phone"] == "+819012345678"
    assert body["payment"] == {"method": "card", "status": "paid", "deadline": None, "konbini": None}
    # Placed awaiting the capture (nothing ships before it), then moved on once it is recorded.
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in body["timeline"] if e["to_status"]] == [
        ("placed", None, "pending_payment"), ("status_changed", "pending_payment", "processing")]
    assert body["timeline"][0]["at"].endswith("+09:00")


def test_order_number_lookup_accepts_full_width_and_no_hyphens(storefront):
    number = place(ListingFactory()).number
    full_width = number.replace("-", "").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert storefront.get(f"/api/v1/orders/{full_width}").json()["order_number"] == number


def test_customer_is_created_then_updated_by_external_id(storefront):
    listing = ListingFactory()
    storefront.json("post", "/api/v1/orders", order_payload(listing, external_id="c-9"))
    payload = order_payload(listing, external_id="c-9")
    payload["customer"]["email"] = "new@example.jp"
    storefront.json("post", "/api/v1/orders", payload)
    customer = Customer.objects.get(external_id="c-9")
    assert customer.email == "new@example.jp" and customer.orders.count() == 2


def test_declined_card_is_402_stock_back_and_nothing_charged(storefront):
    # The order is committed before the gateway is called (orders.place), so a decline cancels
    # it: the stock comes back, nothing is captured, and the customer's history does not show it.
    listing = ListingFactory(stock=5)
    payload = order_payload(listing)
    payload["card_token"] = "tok_declined"
    r = storefront.json("post", "/api/v1/orders", payload)
    assert r.status_code == 402 and r.json()["code"] == "card_declined"
    listing.refresh_from_db()
    assert listing.stock == 5
    order = Order.objects.get()
    assert (order.status, order.cancellation_reason) == ("cancelled", "payment_failed")
    assert order.payment.status == "voided" and order.payment.captured_amount == 0
    assert not SandboxGatewayCapture.objects.filter(status="captured").exists()
    assert not order.refunds.exists()
    assert storefront.get("/api/v1/customers/cust-1/orders").json()["results"] == []


def test_a_refused_payment_method_writes_nothing_not_even_the_customer(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), method="gift_card"))
    assert r.status_code == 400 and r.json()["code"] == "payment_method_unavailable"
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_konbini_order_waits_for_payment_with_a_deadline_and_two_messages(storefront):
    listing = ListingFactory(price=3000)
    r = storefront.json("post", "/api/v1/orders", order_payload(listing, method="konbini"))
    body = r.json()
    assert r.status_code == 201 and body["status"] == "pending_payment"
    assert body["payment_deadline"].endswith("23:59:59+09:00")
    kinds = sorted(Message.objects.filter(order__number=body["order_number"]).values_list("kind", flat=True))
    assert kinds == ["order_confirmed", "payment_instructions"]


def test_cod_order_is_processing_with_payment_pending(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), method="cod"))
    assert r.json()["status"] == "processing"
    assert Payment.objects.get(order__number=r.json()["order_number"]).status == "pending"


def test_gift_card_pays_from_the_balance(storefront):
    listing = ListingFactory(price=2000)
    storefront.json("post", "/api/v1/customers/cust-1/gift-card/credits", {"amount": 1, "reference": "x"})  # 404
    customer = Customer.objects.create(external_id="cust-1", email="a@example.jp", name="a")
    giftcards.credit(customer=customer, amount=5000, kind=GiftCardEntry.Kind.PURCHASE, reference="GC-1")
    r = storefront.json("post", "/api/v1/orders", order_payload(listing, method="gift_card"))
    assert r.status_code == 201 and r.json()["status"] == "processing"
    card = storefront.get("/api/v1/customers/cust-1/gift-card").json()
    assert card["balance"] == 3000
    assert [(e["kind"], e["amount"]) for e in card["entries"]] == [("spend", -2000), ("purchase", 5000)]


def test_digital_order_paid_by_card_goes_straight_to_delivered(storefront):
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(digital=True)))
    assert r.json()["status"] == "delivered"


def test_items_from_two_fulfillers_are_mixed_fulfillment(storefront):
    own = ListingFactory()
    sellers = ListingFactory(fulfilled_by=Listing.FulfilledBy.SELLER)
    r = storefront.json("post", "/api/v1/orders", order_payload(own, sellers))
    assert r.status_code == 400 and r.json()["code"] == "mixed_fulfillment"
    assert not Order.objects.exists()


def test_ordering_more_than_the_stock_is_out_of_stock(storefront):
    listing = ListingFactory(stock=1)
    r = storefront.json("post", "/api/v1/orders", order_payload(listing, quantity=2))
    assert r.status_code == 409 and r.json()["code"] == "out_of_stock"
    listing.refresh_from_db()
    assert listing.stock == 1 and not Order.objects.exists()


def test_suspended_customer_cannot_order(storefront):
    Customer.objects.create(external_id="cust-1", email="a@example.jp", name="a", suspended=True)
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()))
    assert r.status_code == 403 and r.json()["code"] == "customer_suspended"


def test_pickup_store_destination_refuses_digital_lines(storefront):
    store = StoreFactory()
    r = storefront.json("post", "/api/v1/orders", order_payload(
        ListingFactory(digital=True), destination={"type": "pickup_store", "store_code": store.code}))
    assert r.status_code == 400 and r.json()["code"] == "digital_item"


def test_unknown_or_inactive_pickup_store_is_refused(storefront):
    store = StoreFactory(active=False)
    r = storefront.json("post", "/api/v1/orders", order_payload(
        ListingFactory(), destination={"type": "pickup_store", "store_code": store.code}))
    assert r.status_code == 400 and r.json()["code"] == "store_not_found"


def test_full_width_postal_code_and_phone_are_normalised(storefront):
    dest = {**HOME, "postal_code": "１００−０００１", "phone": "０９０－１２３４－５６７８"}
    r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), destination=dest))
    order = Order.objects.get(number=r.json()["order_number"])
    assert (order.postal_code, order.recipient_phone) == ("100-0001", "+819012345678")


def test_seller_fulfilled_order_records_its_seller(storefront):
    seller = SellerFactory()
    listing = ListingFactory(seller=seller, fulfilled_by=Listing.FulfilledBy.SELLER)
    number = storefront.json("post", "/api/v1/orders", order_payload(listing)).json()["order_number"]
    assert Order.objects.get(number=number).fulfilling_seller == seller
