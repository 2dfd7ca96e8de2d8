"""The hot endpoints use a constant number of queries, whatever the order's size."""

from __future__ import annotations

import pytest

from backoffice.checkdigits import seven_dr_number
from shop.services import shipments
from tests.factories import ListingFactory, order_payload, place

pytestmark = pytest.mark.django_db

# 24 before the gift-card balance was read only for gift-card orders; +1 for the customer row lock a
# closing account takes too (seed 003: no order slips past a closure).
# +2: the webhook subscriber check of placement and of the capture's transaction (webhooks.emit)
POST_ORDERS_MAX = 26
GET_ORDER_QUERIES = 2  # the partner's key, the order document


@pytest.mark.parametrize("lines", [1, 8])
def test_post_orders_query_count_does_not_grow_with_lines(storefront, django_assert_max_num_queries, lines):
    listings = [ListingFactory() for _ in range(lines)]
    storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()))  # customer exists now
    with django_assert_max_num_queries(POST_ORDERS_MAX + lines):
        r = storefront.json("post", "/api/v1/orders", order_payload(*listings))
    assert r.status_code == 201


def test_post_orders_queries_per_line_are_only_the_stock_reservation(storefront, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()))
    counts = []
    for n in (1, 6):
        listings = [ListingFactory() for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            storefront.json("post", "/api/v1/orders", order_payload(*listings))
        counts.append(len(ctx.captured_queries))
    # Each extra line costs exactly its conditional stock decrement: no per-line reads.
    assert counts[1] - counts[0] == 5


@pytest.mark.parametrize("lines", [1, 10])
def test_get_order_query_count_is_constant(storefront, django_assert_num_queries, lines):
    order = place(*[ListingFactory() for _ in range(lines)])
    shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number("12345678901"),
                                  actor="t")
    from backoffice.timeutil import now

    for kind in ("accepted", "shipped", "in_transit"):
        shipments.record_event(shipment=shipment, type=kind, occurred_at=now(), location="x", actor="t")
    with django_assert_num_queries(GET_ORDER_QUERIES):
        r = storefront.get(f"/api/v1/orders/{order.number}")
    assert r.status_code == 200 and len(r.json()["lines"]) == lines
    assert len(r.json()["shipment"]["events"]) == 3


def test_a_konbini_order_adds_one_read_for_its_code(storefront, django_assert_max_num_queries):
    order = place(ListingFactory(), method="konbini")
    storefront.json("post", f"/api/v1/orders/{order.number}/konbini-payment", {"chain": "lawson"})
    with django_assert_max_num_queries(GET_ORDER_QUERIES + 2):
        r = storefront.get(f"/api/v1/orders/{order.number}")
    assert r.json()["payment"]["konbini"]["chain"] == "lawson"
