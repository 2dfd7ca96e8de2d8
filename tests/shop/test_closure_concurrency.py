"""Races on real PostgreSQL: a closure against orders and gift-card charges of the same customer.
Whatever commits first, a closed account has no order in flight and no balance left."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from payments.models import GiftCardAccount, GiftCardEntry, PointsAccount, PointsEntry
from shop.models import Customer, Order
from shop.services import closure
from tests.factories import ListingFactory, order_payload, place
from tests.shop.closure_support import deliver
from tests.shop.test_concurrency import client_like
from tests.support import WAIT, run_concurrently, wait_for_lock_waiters

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_", range(2))
def test_a_closure_racing_orders_and_charges_never_leaves_an_order_or_a_balance_on_a_closed_account(
        storefront, round_):
    external_id = f"racer-{round_}"
    listing = ListingFactory(stock=100)
    deliver(place(listing, external_id=external_id))

    def act(i):
        client = client_like(storefront)
        if i == 0:
            return "close", client.json("post", f"/api/v1/customers/{external_id}/closure",
                                        {"confirm_forfeit": True}).status_code
        if i % 2:
            return "order", client.json("post", "/api/v1/orders",
                                        order_payload(listing, external_id=external_id)).status_code
        return "charge", client.json("post", f"/api/v1/customers/{external_id}/gift-card/charges",
                                     {"amount": 1_000, "reference": f"ch-{i}"}).status_code

    results = run_concurrently(9, act)
    customer = Customer.objects.get(external_id=external_id)
    closed = dict(results)["close"] == 200
    assert (customer.closed_at is not None) == closed
    assert {status for what, status in results if what != "close"} <= {201, 410}
    gift = GiftCardAccount.objects.filter(customer=customer).first()
    pts = PointsAccount.objects.filter(customer=customer).first()
    if closed:
        assert Order.objects.filter(customer=customer, status__in=closure.UNSHIPPED_STATUSES).count() == 0
        assert (gift.balance if gift else 0) == 0 and (pts.balance if pts else 0) == 0
    else:
        assert dict(results)["close"] in (409, 400)
    if gift:
        assert gift.balance == (GiftCardEntry.objects.filter(account=gift).aggregate(s=Sum("amount"))["s"] or 0)
    if pts:
        assert pts.balance == (PointsEntry.objects.filter(account=pts).aggregate(s=Sum("points"))["s"] or 0)


@pytest.mark.parametrize("what", ["order", "charge", "credit"])
def test_an_order_or_charge_arriving_while_the_closure_commits_waits_for_it_and_is_410(storefront, what):
    """The closure holds the customer lock until it commits; an order, a charge or a gift-card credit
    that started meanwhile waits for it and then sees the account closed (without the lock it
    would book onto a closed account)."""
    listing = ListingFactory(stock=10)
    deliver(place(listing, external_id="racer"))
    requests = {
        "order": ("/api/v1/orders", order_payload(listing, external_id="racer")),
        "charge": ("/api/v1/customers/racer/gift-card/charges", {"amount": 1_000, "reference": "late"}),
        "credit": ("/api/v1/customers/racer/gift-card/credits", {"amount": 1_000, "reference": "late"}),
    }
    closed_uncommitted, release = threading.Event(), threading.Event()
    answers = {}

    def close():
        try:
            with transaction.atomic():
                closure.close(Customer.objects.get(external_id="racer"), confirm_forfeit=True, actor="test")
                closed_uncommitted.set()
                assert release.wait(WAIT)
        finally:
            connection.close()

    def late():
        try:
            assert closed_uncommitted.wait(WAIT)
            path, body = requests[what]
            r = client_like(storefront).json("post", path, body)
            answers["late"] = (r.status_code, r.json().get("code"))
        finally:
            connection.close()

    threads = [threading.Thread(target=close), threading.Thread(target=late)]
    for t in threads:
        t.start()
    wait_for_lock_waiters()  # the late request waits for the closure's lock
    release.set()
    for t in threads:
        t.join(WAIT)
    assert answers["late"] == (410, "customer_closed")
    assert Order.objects.filter(customer__external_id="racer").count() == 1
    assert GiftCardAccount.objects.get(customer__external_id="racer").balance == 0
