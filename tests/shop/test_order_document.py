"""The order document built by the database renders times exactly as Python does (JST ISO 8601)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import local
from payments.models import Payment, Refund
from shop.models import OrderEvent
from shop.services import orders, shipments
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def test_every_time_in_the_document_matches_isoformat_in_jst(storefront):
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=JST), tick=False):
        order = place(ListingFactory(price=700))
    with time_machine.travel(datetime(2026, 11, 23, 23, 59, 59, tzinfo=JST), tick=False):  # no microseconds
        shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number("12345678901"),
                                      actor="t")
    shipments.record_event(shipment=shipment, type="in_transit", occurred_at=datetime(2026, 11, 24, 0, 0, 1, 5, tzinfo=JST),
                           location="羽田", actor="t")
    body = storefront.get(f"/api/v1/orders/{order.number}").json()
    expected = [local(e.at).isoformat() for e in OrderEvent.objects.filter(order=order).order_by("at", "id")]
    assert [e["at"] for e in body["timeline"]] == expected
    assert expected[0] == "2026-11-23T10:00:00.123456+09:00" and expected[-1] == "2026-11-23T23:59:59+09:00"
    assert body["shipment"]["events"] == [
        {"type": "in_transit", "occurred_at": "2026-11-24T00:00:01.000005+09:00", "location": "羽田"}]


def test_konbini_deadline_and_refund_times(storefront):
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=JST), tick=False):
        konbini = place(ListingFactory(), method="konbini")
        card = place(ListingFactory(price=900))
        orders.cancel(card, reason="customer_request", actor="t")
    assert storefront.get(f"/api/v1/orders/{konbini.number}").json()["payment"]["deadline"] == \
        local(Payment.objects.get(order=konbini).deadline).isoformat() == "2026-11-29T23:59:59+09:00"
    refund = Refund.objects.get(order=card)
    assert storefront.get(f"/api/v1/orders/{card.number}").json()["refunds"] == [
        {"amount": 900, "method": "card", "status": refund.status, "reason": "customer_request",
         "created_at": local(refund.created_at).isoformat()}]


def test_destination_of_a_home_order_and_nulls(storefront):
    order = place(ListingFactory())
    body = storefront.get(f"/api/v1/orders/{order.number}").json()
    assert body["destination"] == {"type": "home", "postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
                                   "address_line": "千代田1-1", "recipient_name": "山田太郎", "phone": "+819012345678"}
    assert body["cancellation_reason"] is None and body["shipment"] is None and body["pickup"] is None
    assert body["timeline"][0]["from_status"] is None
