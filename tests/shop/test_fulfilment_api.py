"""Cancellation, shipments, carrier events and the customer's views (API.md)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from backoffice.checkdigits import seven_dr_number
from payments.models import Payment, Refund
from shop.jobs import send_pending_messages
from shop.models import Listing, Order, ShipmentEvent
from shop.services import orders
from tests.factories import ListingFactory, SellerFactory, place

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
TRACKING = seven_dr_number("12345678901")  # → 12345678901 mod 7 appended


def ship(warehouse, order, tracking=TRACKING):
    return warehouse.json("post", f"/api/v1/orders/{order.number}/shipments",
                          {"carrier": "yamato", "tracking_number": tracking})


def event(carrier, type_, at="2026-11-24T10:00:00+09:00", tracking=TRACKING, location="東京ベース店"):
    return carrier.json("post", f"/api/v1/shipments/{tracking}/events",
                        {"type": type_, "occurred_at": at, "location": location})


def test_customer_cancels_before_shipment_stock_back_and_card_refunded(storefront, django_capture_on_commit_callbacks):
    listing = ListingFactory(stock=5, price=1500)
    order = place(listing, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        r = storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "cancelled" and body["cancellation_reason"] == "customer_request"
    listing.refresh_from_db()
    assert listing.stock == 5
    assert [(x["amount"], x["method"]) for x in body["refunds"]] == [(3000, "card")]
    assert Refund.objects.get(order=order).status == "succeeded"
    send_pending_messages()
    assert any("キャンセル" in m.subject for m in mail.outbox)


def test_cancelling_twice_refunds_once(storefront):
    order = place(ListingFactory(price=800))
    storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    r = storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    assert r.status_code == 409 and r.json()["code"] == "not_cancellable"
    assert Refund.objects.filter(order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_amount == 800


def test_unpaid_konbini_order_cancel_voids_the_payment_without_refund(storefront):
    order = place(ListingFactory(), method="konbini")
    storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    assert Payment.objects.get(order=order).status == "voided"
    assert not Refund.objects.filter(order=order).exists()


def test_shipped_order_is_not_cancellable_by_the_customer(storefront, warehouse):
    order = place(ListingFactory())
    assert ship(warehouse, order).status_code == 201
    r = storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "customer_request"})
    assert r.status_code == 409 and r.json()["code"] == "not_cancellable"


def test_only_customer_request_is_a_storefront_cancellation_reason(storefront):
    order = place(ListingFactory())
    r = storefront.json("post", f"/api/v1/orders/{order.number}/cancel", {"reason": "support"})
    assert r.status_code == 400 and r.json()["field"] == "reason"


def test_warehouse_ships_a_platform_order_and_the_mail_carries_the_tracking_number(warehouse):
    order = place(ListingFactory())
    r = ship(warehouse, order, tracking="１２３４５６７８９０１" + TRACKING[-1])
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "shipped" and r.json()["shipment"]["tracking_number"] == TRACKING
    shipped = order.messages.get(kind="shipped")
    assert order.number in shipped.body and TRACKING in shipped.body


def test_tracking_number_with_a_wrong_7dr_check_digit_is_invalid_number(warehouse):
    order = place(ListingFactory())
    wrong = TRACKING[:-1] + str((int(TRACKING[-1]) + 1) % 7)
    r = ship(warehouse, order, tracking=wrong)
    assert r.status_code == 400 and r.json()["code"] == "invalid_number"
    assert Order.objects.get(pk=order.pk).status == "processing"


def test_a_tracking_number_is_used_once(warehouse):
    ship(warehouse, place(ListingFactory()))
    r = ship(warehouse, place(ListingFactory()))
    assert r.status_code == 409 and r.json()["code"] == "tracking_number_taken"


def test_seller_ships_its_self_fulfilled_order_but_not_a_platform_one(make_client):
    seller = SellerFactory()
    client = make_client("seller", seller=seller)
    own = place(ListingFactory(seller=seller, fulfilled_by=Listing.FulfilledBy.SELLER))
    assert ship(client, own).status_code == 201
    platform_with_its_listing = place(ListingFactory(seller=seller))
    r = ship(client, platform_with_its_listing, tracking=seven_dr_number("22345678901"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_warehouse_cannot_see_a_seller_fulfilled_order(warehouse):
    order = place(ListingFactory(fulfilled_by=Listing.FulfilledBy.SELLER))
    assert warehouse.get(f"/api/v1/orders/{order.number}").status_code == 404
    assert ship(warehouse, order).status_code == 404


def test_cod_delivered_collects_the_money_and_completes_the_order(warehouse, carrier):
    order = place(ListingFactory(price=2500), method="cod")
    ship(warehouse, order)
    r = event(carrier, "delivered")
    assert r.status_code == 201 and r.json()["order_status"] == "delivered"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount) == ("paid", 2500)


def test_a_repeated_carrier_event_is_accepted_once(warehouse, carrier):
    order = place(ListingFactory())
    ship(warehouse, order)
    first, again = event(carrier, "in_transit"), event(carrier, "in_transit")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["duplicate"] is True
    assert ShipmentEvent.objects.filter(shipment__order=order).count() == 1


def test_a_late_event_goes_on_the_tracking_table_but_never_moves_the_order_back(warehouse, carrier):
    order = place(ListingFactory())
    ship(warehouse, order)
    event(carrier, "delivered", at="2026-11-25T12:00:00+09:00")
    late = event(carrier, "in_transit", at="2026-11-24T08:00:00+09:00")
    assert late.json()["order_status"] == "delivered"
    types = [e["type"] for e in warehouse.get(f"/api/v1/orders/{order.number}").json()["shipment"]["events"]]
    assert types == ["in_transit", "delivered"]  # in time order, as the seed's table shows them


def test_refused_cod_parcel_cancels_with_cod_refused_and_returns_stock(warehouse, carrier):
    listing = ListingFactory(stock=3)
    order = place(listing, method="cod")
    ship(warehouse, order)
    r = event(carrier, "refused")
    assert r.json()["order_status"] == "cancelled"
    order.refresh_from_db()
    assert order.cancellation_reason == "cod_refused"
    listing.refresh_from_db()
    assert listing.stock == 3
    assert not Refund.objects.filter(order=order).exists()  # nothing was paid


def test_carrier_event_for_an_unknown_parcel_is_404(carrier):
    r = event(carrier, "delivered", tracking=seven_dr_number("99999999999"))
    assert r.status_code == 404 and r.json()["code"] == "shipment_not_found"


def test_order_history_hides_payment_expired_cancellations(storefront):
    kept = place(ListingFactory())
    expired = place(ListingFactory(), method="konbini")
    orders.cancel(expired, reason="payment_expired", actor="system")
    r = storefront.get("/api/v1/customers/cust-1/orders")
    assert [o["order_number"] for o in r.json()["results"]] == [kept.number]
    assert storefront.get(f"/api/v1/orders/{expired.number}").json()["status"] == "cancelled"  # support sees it


def test_message_center_lists_messages_newest_first(storefront, warehouse):
    order = place(ListingFactory())
    ship(warehouse, order)
    body = storefront.get("/api/v1/customers/cust-1/messages").json()
    assert [m["kind"] for m in body["results"]] == ["shipped", "order_confirmed"]
    assert body["results"][0]["order_number"] == order.number


def test_each_message_is_emailed_once_by_the_relay():
    from shop.services import messages

    order = place(ListingFactory())
    assert mail.outbox == []  # the request only wrote the message
    assert send_pending_messages() == {"sent": 1}
    assert len(mail.outbox) == 1
    message = order.messages.get()
    assert message.emailed_at is not None
    assert messages.deliver(message.pk) is False  # a redelivered task sends nothing
    assert send_pending_messages() == {"sent": 0}  # the next relay run finds nothing
    again = messages.notify(customer=order.customer, kind="order_confirmed", order=order)
    assert again.pk == message.pk and send_pending_messages() == {"sent": 0} and len(mail.outbox) == 1


def test_nothing_is_emailed_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                place(ListingFactory())
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == [] and send_pending_messages() == {"sent": 0} and mail.outbox == []


def test_callback_request_normalises_the_phone_to_plus_81(storefront):
    order = place(ListingFactory())
    r = storefront.json("post", "/api/v1/customers/cust-1/callback-requests",
                        {"phone": "０３－１２３４－５６７８", "topic": "身に覚えのない注文", "order_number": order.number})
    assert r.status_code == 201
    assert r.json()["phone"] == "+81312345678" and r.json()["status"] == "waiting"


def test_a_callback_naming_another_customers_order_is_404_and_writes_nothing(storefront):
    from shop.models import CallbackRequest

    theirs = place(ListingFactory(), external_id="someone-else")
    place(ListingFactory())  # cust-1 exists
    r = storefront.json("post", "/api/v1/customers/cust-1/callback-requests",
                        {"phone": "03-1234-5678", "topic": "注文について", "order_number": theirs.number})
    assert r.status_code == 404 and (r.json()["code"], r.json()["field"]) == ("order_not_found", "order_number")
    assert not CallbackRequest.objects.exists()


def test_delivered_event_time_is_kept_in_jst(warehouse, carrier):
    order = place(ListingFactory())
    ship(warehouse, order)
    event(carrier, "delivered", at="2026-11-24T01:30:00Z")
    e = ShipmentEvent.objects.get(shipment__order=order)
    assert e.occurred_at == datetime(2026, 11, 24, 10, 30, tzinfo=JST)


def test_the_shipper_rule_lives_in_the_service_not_only_the_api():
    from backoffice.errors import Forbidden
    from shop.models import Seller
    from shop.services import shipments

    order = place(ListingFactory())  # fulfilled by the platform: the warehouse ships it
    other = Seller.objects.create(name="別の出品者")
    with pytest.raises(Forbidden):
        shipments.register(order=order, carrier="yamato", tracking_number=TRACKING, actor="test",
                           shipper_seller_id=other.pk)
    order.refresh_from_db()
    assert order.status == "processing" and not hasattr(order, "shipment")
    shipments.register(order=order, carrier="yamato", tracking_number=TRACKING, actor="test", shipper_seller_id=None)
    assert Order.objects.get(pk=order.pk).status == "shipped"
