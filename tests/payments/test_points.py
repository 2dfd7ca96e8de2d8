"""The points ledger (payments/services/points.py, seed 003): a gift-card charge earns 2%, 2.5% for Prime,
rounded down; balance = sum of entries, guarded ≥ 0 by the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from backoffice.errors import Conflict, InvalidInput
from payments.models import GiftCardEntry, PointsAccount, PointsEntry
from payments.services import points
from shop.models import Customer
from tests.factories import CustomerFactory, ListingFactory, order_payload

pytestmark = pytest.mark.django_db


def test_seed_003_points_rate_is_2_percent_and_2_5_percent_for_prime():
    assert points.EARN_PERMILLE == {False: 20, True: 25}
    assert points.earned_for(10_000, prime=False) == 200
    assert points.earned_for(10_000, prime=True) == 250
    # rounded down: 99 yen × 2% = 1.98 → 1; 39 yen × 2.5% = 0.975 → 0; 40 yen × 2.5% = 1
    assert points.earned_for(99, prime=False) == 1
    assert points.earned_for(49, prime=False) == 0 and points.earned_for(50, prime=False) == 1
    assert points.earned_for(39, prime=True) == 0 and points.earned_for(40, prime=True) == 1


def test_a_charge_credits_the_gift_card_and_earns_points_at_the_member_rate(storefront):
    CustomerFactory(external_id="c-std")
    CustomerFactory(external_id="c-prime", prime=True)
    std = storefront.json("post", "/api/v1/customers/c-std/gift-card/charges", {"amount": 5_000, "reference": "ch-1"})
    prime = storefront.json("post", "/api/v1/customers/c-prime/gift-card/charges",
                            {"amount": 5_000, "reference": "ch-1"})
    assert std.status_code == 201, std.json()
    assert (std.json()["balance"], std.json()["points_earned"]) == (5_000, 100)
    assert (prime.json()["balance"], prime.json()["points_earned"]) == (5_000, 125)
    entry = GiftCardEntry.objects.get(account__customer__external_id="c-std")
    assert (entry.kind, entry.amount) == ("charge", 5_000)
    assert storefront.get("/api/v1/customers/c-prime/points").json()["balance"] == 125


def test_the_same_charge_twice_books_once_and_answers_with_the_first(storefront):
    CustomerFactory(external_id="c-1")
    body = {"amount": 3_000, "reference": "ch-9"}
    first = storefront.json("post", "/api/v1/customers/c-1/gift-card/charges", body).json()
    again = storefront.json("post", "/api/v1/customers/c-1/gift-card/charges", body).json()
    assert first == again == {"balance": 3_000, "points_earned": 60, "points_balance": 60, "reference": "ch-9"}
    assert GiftCardEntry.objects.count() == 1 and PointsEntry.objects.count() == 1


@pytest.mark.parametrize("body", [{"amount": 0, "reference": "x"}, {"amount": -5, "reference": "x"},
                                  {"amount": "100", "reference": "x"}, {"amount": 1.5, "reference": "x"},
                                  {"amount": 100}, {"amount": 100, "reference": "x" * 81}])
def test_a_bad_charge_is_400_and_writes_nothing(storefront, body):
    CustomerFactory(external_id="c-1")
    r = storefront.json("post", "/api/v1/customers/c-1/gift-card/charges", body)
    assert r.status_code == 400 and r.json()["field"] in {"amount", "reference"}
    assert not GiftCardEntry.objects.exists() and not PointsEntry.objects.exists()


def test_prime_is_set_by_customer_prime_on_post_orders(storefront):
    payload = order_payload(ListingFactory(), external_id="c-p")
    payload["customer"]["prime"] = True
    assert storefront.json("post", "/api/v1/orders", payload).status_code == 201
    assert Customer.objects.get(external_id="c-p").prime is True
    r = storefront.json("post", "/api/v1/customers/c-p/gift-card/charges", {"amount": 1_000, "reference": "a"})
    assert r.json()["points_earned"] == 25
    payload["customer"]["prime"] = "yes"
    assert storefront.json("post", "/api/v1/orders", payload).status_code == 400


def test_points_balance_is_the_sum_of_the_ledger():
    customer = CustomerFactory()
    for i, amount in enumerate([1_000, 2_550, 99]):
        points.charge(customer=customer, amount=amount, reference=f"c{i}")
    points.adjust(customer=customer, points=-30, reference="s1", note="誤付与の訂正", actor="staff:a")
    total = PointsEntry.objects.filter(account__customer=customer).aggregate(s=Sum("points"))["s"]
    assert total == 20 + 51 + 1 - 30 == points.account_for(customer).balance


def test_an_adjustment_below_zero_is_refused_and_the_database_guards_the_balance():
    customer = CustomerFactory()
    points.charge(customer=customer, amount=1_000, reference="c")
    with pytest.raises(Conflict) as refused:
        points.adjust(customer=customer, points=-21, reference="s1", note="訂正", actor="staff:a")
    assert refused.value.code == "points_insufficient"
    with pytest.raises(InvalidInput):
        points.adjust(customer=customer, points=0, reference="s2", note="訂正", actor="staff:a")
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(customer=customer).update(balance=-1)
    assert points.account_for(customer).balance == 20
