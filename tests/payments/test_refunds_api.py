"""POST /orders/{number}/returns: a return of delivered goods refunds those items once."""

from __future__ import annotations

import pytest

from backoffice.api.fields import MAX_QUANTITY
from payments.models import Refund, Return
from shop.models import Order, OrderStatus
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered():
    listing = ListingFactory(sku="TEA-01", price=1500)
    order = place(listing, quantity=2)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    return order


def url(order: Order) -> str:
    return f"/api/v1/orders/{order.number}/returns"


def test_returning_one_of_two_items_refunds_its_price(storefront, delivered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = storefront.json("post", url(delivered), {"lines": [{"sku": "TEA-01", "quantity": 1}], "reference": "RMA-7"})

    assert r.status_code == 201, r.json()
    assert r.json()["amount"] == 1500 and r.json()["method"] == "card"
    assert Refund.objects.get(pk=r.json()["refund_id"]).status == "succeeded"
    order = storefront.json("get", f"/api/v1/orders/{delivered.number}").json()
    assert [(x["amount"], x["status"]) for x in order["refunds"]] == [(1500, "succeeded")]


def test_the_same_reference_twice_is_one_return(storefront, delivered):
    body = {"lines": [{"sku": "TEA-01", "quantity": 1}], "reference": "RMA-8"}
    first = storefront.json("post", url(delivered), body).json()
    again = storefront.json("post", url(delivered), body).json()
    assert first["refund_id"] == again["refund_id"]
    assert Refund.objects.filter(order=delivered).count() == 1


@pytest.mark.parametrize("body, status, code", [
    ({"lines": [{"sku": "TEA-01", "quantity": 3}]}, 409, "return_quantity_exceeded"),
    ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 400, "line_not_found"),
    ({"amount": 999999}, 409, "refund_exceeds_captured"),
    ({"amount": "１０００円"}, 400, "invalid"),
    ({}, 400, "invalid_return"),
])
def test_bad_returns_are_refused_and_nothing_is_written(storefront, delivered, body, status, code):
    r = storefront.json("post", url(delivered), body)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert not Refund.objects.exists()


@pytest.mark.parametrize("body", [
    {"amount": "1000"},  # a string where the API takes integer yen
    {"amount": 1000.5},
    {"amount": True},
    {"lines": [{"sku": "TEA-01", "quantity": MAX_QUANTITY + 1}]},
    {"lines": [{"sku": "TEA-01", "quantity": "1"}]},
    {"lines": [{"sku": 1, "quantity": 1}]},
])
def test_wrong_types_and_absurd_quantities_are_a_400_and_nothing_is_written(storefront, delivered, body):
    r = storefront.json("post", url(delivered), body)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] and r.json()["message"]
    assert not Refund.objects.exists()
    assert not Return.objects.exists()


def test_an_order_not_yet_delivered_cannot_be_returned(storefront):
    order = place(ListingFactory())
    r = storefront.json("post", url(order), {"amount": 100})
    assert (r.status_code, r.json()["code"]) == (409, "not_returnable")
