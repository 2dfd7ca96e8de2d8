"""Emission is one call per batch and costs one query when nobody subscribes (issue 13): the
expiry sweeps cancel thousands of orders a second through the same core."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from backoffice.models import OutboxTask
from payments.konbini.models import PaymentCode
from shop.models import CancellationReason, Order
from shop.services import cancellation
from tests.factories import ListingFactory, place
from tests.webhooks.support import subscribe
from webhooks.emit import emit_many, subscribed_types
from webhooks.models import Endpoint, Event, ResourceSequence

pytestmark = pytest.mark.django_db


def _konbini_orders(n: int) -> list[int]:
    listing = ListingFactory(stock=1000)
    return [place(listing, method="konbini", external_id=f"c-{i}").pk for i in range(n)]


def _cancel_queries(ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        cancellation.cancel_orders(ids, reason=CancellationReason.PAYMENT_EXPIRED, actor="system:test")
    return len(ctx.captured_queries)


def test_nobody_subscribed_costs_one_query_and_never_reads_the_ids(django_assert_num_queries):
    lazy = PaymentCode.objects.filter(pk__gt=0).values_list("pk", flat=True)
    with django_assert_num_queries(1):
        assert emit_many({"order.cancelled": [1, 2, 3], "payment_code.voided": lazy}) == 0
    assert not Event.objects.exists() and not OutboxTask.objects.exists()


def test_a_subscription_to_other_types_costs_the_same_one_query(storefront, django_assert_num_queries):
    subscribe(storefront, "https://hooks.example.jp/a", ["refund.failed"])
    with django_assert_num_queries(1):
        assert emit_many({"order.cancelled": [1, 2, 3]}) == 0


def test_with_subscribers_a_batch_costs_the_same_queries_whatever_its_size(storefront):
    subscribe(storefront, "https://hooks.example.jp/a", ["order.cancelled"])
    small, large = _konbini_orders(2), _konbini_orders(30)
    Event.objects.all().delete()
    assert _cancel_queries(small) == _cancel_queries(large)
    assert Event.objects.filter(type="order.cancelled").count() == 32
    assert OutboxTask.objects.filter(task="webhooks.fan_out").count() == 2  # one per batch


def test_sequence_numbers_follow_each_resource(storefront):
    subscribe(storefront, "https://hooks.example.jp/a", ["order.placed", "order.paid", "order.cancelled"])
    order = place(ListingFactory())  # placed, paid (card)
    cancellation.cancel_orders([order.pk], reason=CancellationReason.CUSTOMER_REQUEST, actor="system:test")
    other = place(ListingFactory(), external_id="c-2")
    assert list(Event.objects.filter(order=order).order_by("pk").values_list("type", "sequence")) == [
        ("order.placed", 1), ("order.paid", 2), ("order.cancelled", 3)]
    assert list(Event.objects.filter(order=other).values_list("sequence", flat=True)) == [1, 2]
    assert ResourceSequence.objects.get(resource=f"order:{order.pk}").last == 3
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_a_rolled_back_change_leaves_no_event(storefront):
    subscribe(storefront, "https://hooks.example.jp/a", ["order.cancelled"])
    order = place(ListingFactory(), method="konbini")
    with pytest.raises(RuntimeError), transaction.atomic():
        cancellation.cancel_orders([order.pk], reason=CancellationReason.CUSTOMER_REQUEST, actor="system:test")
        raise RuntimeError
    assert not Event.objects.filter(type="order.cancelled").exists()


def test_only_the_types_an_active_endpoint_subscribes_to_are_found(storefront):
    """The plain statement matches whole types of active endpoints: not a disabled endpoint's, not
    a type that merely contains another's name, not the other types of a matching endpoint."""
    subscribe(storefront, "https://hooks.example.jp/a", ["order.cancelled", "refund.failed"])
    subscribe(storefront, "https://hooks.example.jp/b", ["order.paid"])
    Endpoint.objects.filter(url="https://hooks.example.jp/b").update(active=False)
    assert subscribed_types(["order.cancelled", "order.paid", "order.cancel", "refund.succeeded"]) == {
        "order.cancelled"}
    assert subscribed_types([]) == set()
