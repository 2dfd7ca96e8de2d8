"""When konbini payment is offered (SPEC §2 matrix, seeds 003 and 004)."""

from __future__ import annotations

import pytest

from payments.konbini.chains import KONBINI_MAX_TOTAL
from shop.models import Order
from tests.factories import ListingFactory, SellerFactory, order_payload

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"


def _order(storefront, listing, **kwargs):
    return storefront.json("post", ORDERS, order_payload(listing, method="konbini", **kwargs))


def _refused_for(response) -> list[str]:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "payment_method_unavailable" and body["message"] == "このご注文にはご利用頂けません"
    assert body["field"] == "payment_method"
    return body["reasons"]


def test_konbini_total_of_300000_yen_is_allowed(storefront):
    assert KONBINI_MAX_TOTAL == 300_000
    r = _order(storefront, ListingFactory(price=100_000), quantity=3)
    assert r.status_code == 201, r.json()
    assert r.json()["total"] == 300_000


def test_konbini_total_of_300001_yen_is_refused(storefront):
    r = _order(storefront, ListingFactory(price=300_001))
    assert _refused_for(r) == ["amount_over_limit"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("speed", ["express", "scheduled"])
def test_konbini_with_express_or_scheduled_delivery_is_refused(storefront, speed):
    assert _refused_for(_order(storefront, ListingFactory(), speed=speed)) == ["shipping_speed"]


def test_every_reason_that_applies_is_given(storefront):
    reasons = _refused_for(_order(storefront, ListingFactory(price=400_000), speed="express"))
    assert set(reasons) == {"amount_over_limit", "shipping_speed"}


def test_seller_fulfilled_order_is_refused_unless_the_seller_opted_in(storefront):
    listing = ListingFactory(fulfilled_by="seller", seller=SellerFactory(accept_konbini_self_fulfilled=False))
    assert set(_refused_for(_order(storefront, listing))) == {"seller_fulfilled", "seller_disabled_konbini"}


def test_seller_fulfilled_order_is_allowed_when_the_seller_accepts_konbini(storefront):
    listing = ListingFactory(fulfilled_by="seller", seller=SellerFactory(accept_konbini_self_fulfilled=True))
    r = _order(storefront, listing)
    assert r.status_code == 201, r.json()


def test_platform_fulfilled_order_is_allowed_whatever_the_seller_says(storefront):
    listing = ListingFactory(fulfilled_by="platform", seller=SellerFactory(accept_konbini_self_fulfilled=False))
    assert _order(storefront, listing).status_code == 201


def test_full_width_postal_code_and_phone_are_accepted_for_a_konbini_order(storefront):
    payload = order_payload(ListingFactory(), method="konbini")
    payload["destination"] = payload["destination"] | {"postal_code": "１００－０００１", "phone": "０９０－１２３４－５６７８"}
    r = storefront.json("post", ORDERS, payload)
    assert r.status_code == 201, r.json()
    assert Order.objects.get(number=r.json()["order_number"]).postal_code == "100-0001"
