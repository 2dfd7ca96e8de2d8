"""The hot endpoints use a constant number of queries, whatever the order's size."""

from __future__ import annotations

import pytest

from backoffice.checkdigits import seven_dr_number
from shop.services import shipments
from tests.factories import ListingFactory, order_payload, place

pytestmark = pytest.mark.django_db

# 24 + 1 per line before issue 16 (the customer upserted and locked by one statement, screening's
# second lock dropped, the risk facts written out, the order inserted without a savepoint, the
# sandbox capture and — on PostgreSQL — transaction 2 in one statement each, the stock of several
# lines in two). SQLite writes transaction 2 through the services (savepoints included).
# +2: the webhook subscriber check of placement and of the capture's transaction (webhooks.emit);
# -1 on PostgreSQL: the capture's check rides along in transaction 2's statement.
POST_ORDERS_MAX = {"postgresql": 17, "sqlite": 23}
GET_ORDER_QUERIES = 2  # the partner's key, the order document


def _post_orders_max() -> int:
    from django.db import connection

    return POST_ORDERS_MAX[connection.vendor]


@pytest.mark.parametrize("lines", [1, 8])
def test_post_orders_query_count_does_not_grow_with_lines(storefront, django_assert_max_num_queries, lines):
    listings = [ListingFactory() for _ in range(lines)]
    storefront.json("post", "/api/v1/orders", order_payload(ListingFactory()))  # customer exists now
    with django_assert_max_num_queries(_post_orders_max()):
        r = storefront.json("post", "/api/v1/orders", order_payload(*listings))
    assert r.status_code == 201


def test_post_orders_lines_cost_no_query_each(storefront):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (1, 2, 6):
        customer = f"lines-{n}"  # each a returning customer with one earlier order: no rule fires
        storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), external_id=customer))
        listings = [ListingFactory() for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            storefront.json("post", "/api/v1/orders", order_payload(*listings, external_id=customer))
        counts.append(len(ctx.captured_queries))
    # Several lines add one locking read of their listings (in primary-key order) to the one
    # stock UPDATE; no statement per line.
    assert counts[1] - counts[0] == 1 and counts[2] == counts[1]


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
