"""List pages are paginated and take the same number of queries for 2 rows or 12."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shop.models import Order
from shop.services import customers, seller_closure
from tests import factories
from tests.staff import scenario
from tests.staff.submit import submit

pytestmark = pytest.mark.django_db

# Session, user, groups, then the page's own reads (count + page + its joins/prefetches).
MAX_QUERIES = 14


def _page(client, url: str) -> tuple[int, str]:
    """The number of queries the page took, and the page."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def _queries(client, url: str) -> int:
    return _page(client, url)[0]


def _rows(html: str) -> int:
    return html.count("<tr")


def _constant(client, url: str, grow, django_assert_max_num_queries, grown_rows: int = 10,
              max_queries: int = MAX_QUERIES) -> None:
    """Grow the data by 2 rows then 10 more: the page shows them and takes as many queries."""
    grow(2)
    client.get(url)  # the first visit issues the page's one-time form tokens (an INSERT once)
    small, small_page = _page(client, url)
    grow(10)
    with django_assert_max_num_queries(max_queries):
        large, large_page = _page(client, url)
    assert large == small
    assert _rows(large_page) - _rows(small_page) == grown_rows  # the grown rows are really on the page


def test_callback_queue(agent, django_assert_max_num_queries):
    customer = factories.CustomerFactory()

    def grow(n):
        for i in range(n):
            order = factories.place(factories.ListingFactory(), external_id=customer.external_id)
            customers.request_callback(customer=customer, phone="090-1234-5678", topic=f"用件{i}", order=order)

    _constant(agent, "/staff/callbacks/", grow, django_assert_max_num_queries)


def test_review_queue(analyst, django_assert_max_num_queries):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            scenario.held_order(external_id=f"hold-{next(serial)}")

    _constant(analyst, "/staff/review/", grow, django_assert_max_num_queries)


def test_failed_refunds_queue(finance, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            scenario.failed_card_refund(django_capture_on_commit_callbacks, external_id=f"f-{next(serial)}")

    _constant(finance, "/staff/refunds/failed/", grow, django_assert_max_num_queries)


def test_fraud_reports_queue(analyst, django_assert_max_num_queries):
    def grow(n):
        for _ in range(n):
            order = factories.place(factories.ListingFactory())
            assert submit(analyst, f"/staff/orders/{order.number}/actions/secure-account/").status_code == 302

    _constant(analyst, "/staff/reports/", grow, django_assert_max_num_queries)


def test_locked_pickups(agent, django_assert_max_num_queries):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            scenario.pickup_order(external_id=f"p-{next(serial)}", failed_attempts=5)

    _constant(agent, "/staff/pickups/?show=locked", grow, django_assert_max_num_queries)


def test_transfer_batches(finance, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            scenario.transfer_batch(external_id=f"b-{next(serial)}")

    _constant(finance, "/staff/transfers/", grow, django_assert_max_num_queries)


def test_customer_page_orders_and_gift_card_history(agent, django_assert_max_num_queries):
    listing = factories.ListingFactory(stock=1000)
    customer = factories.CustomerFactory(external_id="many")

    def grow(n):
        for _ in range(n):
            factories.place(listing, external_id="many")

    # Each order also sent the customer messages (the message history, issue 17): 20 more rows;
    # the history (count + page), the notes, their form token and the activity are 6 more queries;
    # the revoked sessions (revocations + the logins they ended) and the reset links 3 more.
    _constant(agent, f"/staff/customers/{customer.pk}/", grow, django_assert_max_num_queries, grown_rows=20,
              max_queries=MAX_QUERIES + 11)


def test_dashboard(agent, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            i = next(serial)
            scenario.pickup_order(external_id=f"d-{i}", failed_attempts=5)
            scenario.callback(factories.CustomerFactory(), f"用件{i}")

    # The dashboard lists the 10 oldest callbacks: 2 rows, then 10. One aggregate query per tile
    # (a support agent sees the failing-webhooks tile too: +1).
    _constant(agent, "/staff/", grow, django_assert_max_num_queries, grown_rows=8, max_queries=MAX_QUERIES + 1)


def test_order_page_with_pickup_attempts_and_logins(agent, django_assert_max_num_queries):
    small = scenario.pickup_order(external_id="s", failed_attempts=1)
    large = scenario.pickup_order(external_id="l", failed_attempts=6)
    scenario.logins_for(large.customer)
    counts = [_queries(agent, f"/staff/orders/{o.number}/") for o in (small, large)]
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(20):
        agent.get(f"/staff/orders/{large.number}/")


def test_seller_closure_queue(agent, django_assert_max_num_queries):
    def grow(n):
        for _ in range(n):
            seller = factories.SellerFactory()
            seller_closure.request_closure(seller=seller, phone="03-1234-5678", comment="閉鎖希望", actor="test")

    _constant(agent, "/staff/seller-closures/", grow, django_assert_max_num_queries)


def test_search_by_part_of_an_order_number(agent, django_assert_max_num_queries):
    serial = iter(range(1000))

    def grow(n):
        for _ in range(n):
            order = factories.place(factories.ListingFactory())
            Order.objects.filter(pk=order.pk).update(number=f"{next(serial):03d}-0000000-7654321")

    _constant(agent, "/staff/search/?q=7654321", grow, django_assert_max_num_queries)
