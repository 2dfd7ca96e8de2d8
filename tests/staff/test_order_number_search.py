"""Part of an order number (issue 17, at 1M orders): what an agent reads off an e-mail — the end
of the number (the last segment, or more across its hyphen), the middle segment or its start, the
first digits — each found through a B-tree prefix search (``shop.0011_order_number_part_indexes``)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from shop.models import Order
from staff import selectors
from tests import factories

pytestmark = pytest.mark.django_db


def _order(number: str) -> Order:
    order = factories.place(factories.ListingFactory())
    Order.objects.filter(pk=order.pk).update(number=number)
    order.refresh_from_db()
    return order


@pytest.fixture
def two_orders() -> tuple[Order, Order]:
    return _order("123-4567890-1234567"), _order("765-1234567-9876543")


def _found(digits: str) -> set[str]:
    result = selectors.search(digits)
    assert result.kind == "partial_order_number"
    return {o.number for o in result.order_matches}


@pytest.mark.parametrize(("typed", "numbers"), [
    ("1234567", {"123-4567890-1234567", "765-1234567-9876543"}),  # a's last segment, b's middle one
    ("901234567", {"123-4567890-1234567"}),  # the end, across the second hyphen
    ("4567", {"123-4567890-1234567"}),  # the last four digits (and a's middle segment starts so too)
    ("6543", {"765-1234567-9876543"}),  # the last four digits
    ("4567890", {"123-4567890-1234567"}),  # the middle segment
    ("45678901", {"123-4567890-1234567"}),  # the middle segment and the first digit of the last
    ("7651", {"765-1234567-9876543"}),  # the first digits, across the first hyphen
    ("１２３４５６７", {"123-4567890-1234567", "765-1234567-9876543"}),  # full-width digits
])
def test_the_end_the_middle_segment_and_the_start_find_the_order(two_orders, typed, numbers):
    assert _found(typed) == numbers


def test_digits_from_inside_a_segment_are_not_a_search(two_orders):
    """The choice (see the migration): the middle of the last segment, or the end of the middle
    segment with the start of the last, is not what an agent reads off an e-mail."""
    assert _found("345678") == set()  # a's last segment from its third digit
    assert _found("8901234") == set()  # across a's second hyphen, from inside the middle segment


def test_the_search_page_lists_the_matches_newest_first_and_exports_them(agent, two_orders):
    body = agent.get("/staff/search/?q=1234567").content.decode()
    assert body.index("765-1234567-9876543") < body.index("123-4567890-1234567")  # b was placed last
    assert 'data-testid="matches-truncated"' not in body
    response = agent.get("/staff/search/?q=1234567&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["765-1234567-9876543", "123-4567890-1234567"]


def test_too_many_matches_ask_for_more_digits(agent, two_orders, monkeypatch):
    monkeypatch.setattr(selectors, "MATCHES_MAX", 1)
    result = selectors.search("1234567")
    assert result.order_matches.truncated and len(result.order_matches) == 1
    body = agent.get("/staff/search/?q=1234567").content.decode()
    assert 'data-testid="matches-truncated"' in body and "一致する注文が1件を超えた" in body
    assert ("123-4567890-1234567" in body) != ("765-1234567-9876543" in body)  # one of the two is listed


@pytest.mark.postgres
def test_each_way_is_an_index_search_on_postgresql(two_orders):
    """The planner can serve each way from an index condition: were an index missing or its
    expression not the query's, the only plan left would be a scan of the orders."""
    with CaptureQueriesContext(connection) as ctx:
        selectors.orders_by_partial_number("45678901")
    (lookup,) = ctx.captured_queries
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order")
        cursor.execute("SET LOCAL enable_seqscan = off")  # on two rows, walking any index is as cheap:
        cursor.execute("SET LOCAL enable_indexscan = off")  # only the bitmap of index conditions is left
        cursor.execute("EXPLAIN " + lookup["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on shop_order" not in plan
    for index in ("order_number_reversed", "order_number_after_first", "shop_order_number"):
        assert index in plan
