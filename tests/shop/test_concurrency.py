"""Races on real PostgreSQL: threads with their own connections (SPEC §2 "never oversell")."""

from __future__ import annotations

import pytest

from shop.models import Listing, Order
from tests.conftest import PartnerClient
from tests.factories import ListingFactory, order_payload
from tests.support import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def client_like(client: PartnerClient) -> PartnerClient:
    twin = PartnerClient()
    twin._credentials = dict(client._credentials)
    return twin


def test_fifty_concurrent_orders_for_ten_in_stock_sell_exactly_ten(storefront):
    listing = ListingFactory(stock=10, price=1000)

    def order(i):
        return client_like(storefront).json(
            "post", "/api/v1/orders", order_payload(listing, external_id=f"buyer-{i}")).status_code

    statuses = run_concurrently(50, order)
    assert statuses.count(201) == 10
    assert statuses.count(409) == 40
    assert Listing.objects.get(pk=listing.pk).stock == 0
    assert Order.objects.count() == 10


def test_an_idempotent_order_replayed_concurrently_is_created_once(storefront):
    listing = ListingFactory(stock=100)
    payload = order_payload(listing)

    def order(i):
        r = client_like(storefront).json("post", "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="same-key")
        return r.status_code, r.json()["order_number"]

    results = run_concurrently(10, order)
    assert {status for status, _ in results} == {201}
    assert len({number for _, number in results}) == 1
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).stock == 99
