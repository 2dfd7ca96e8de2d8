"""``field__still=value`` (backoffice/keyed.py): the same rows as ``field=value``, found by the
key even when the statistics make a status index look cheaper (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from shop.models import Order
from shop.services import orders
from tests.factories import ListingFactory, place
from tests.support import copies, plans_of

pytestmark = pytest.mark.django_db


def test_still_matches_what_exact_matches_and_nothing_else():
    order = place(ListingFactory())
    for status in (order.status, "cancelled", ""):
        by_still = list(Order.objects.filter(pk=order.pk, status__still=status).values_list("pk", flat=True))
        by_exact = list(Order.objects.filter(pk=order.pk, status=status).values_list("pk", flat=True))
        assert by_still == by_exact
    assert Order.objects.filter(pk=order.pk, status__still="cancelled").update(status="paid") == 0
    assert Order.objects.filter(pk=order.pk, status__still=order.status).update(status=order.status) == 1


@pytest.mark.postgres
def test_a_transition_finds_its_order_by_key_when_the_statistics_say_its_status_is_rare():
    """400 orders delivered, one being prepared: ``order_status_placed`` looks cheaper than the
    primary key for ``status = 'processing'`` — ``exact`` reads it, the transition (``still``) not."""
    order = place(ListingFactory())
    assert order.status == "processing"
    shipped = copies(order, 400, number=lambda i: f"{order.number[:-6]}{i:06d}", status=lambda i: "delivered")
    Order.objects.bulk_create(shipped)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order")
    with plans_of('UPDATE "shop_order"') as plans:
        orders.transition(order, "shipped", actor="system")
    assert plans == [{("shop_order", "shop_order_pkey")}]
    with plans_of('SELECT') as plans:  # what exact would have done, for the record
        list(Order.objects.filter(pk=order.pk, status="processing").values_list("pk", flat=True))
    assert plans == [{("shop_order", "order_status_placed")}]
