"""Typed order events (shop/events.py): kinds are choices, details are params put into words when
read (so the English console translates them), the actor is a kind plus a reference."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from backoffice.actors import Actor, ActorKind
from shop import events
from shop.models import Order, OrderEvent
from shop.services import orders
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db


def test_a_cancellation_event_is_words_in_japanese_and_in_english():
    order = place(ListingFactory(price=1000))
    Order.objects.filter(pk=order.pk).update(status="shipped")
    orders.cancel(order, reason="returned", actor="system", location="千代田センター")
    event = order.events.get(kind="status_changed", to_status="cancelled")
    assert event.params == {"cause": "returned", "location": "千代田センター"} and event.note == ""
    with translation.override("ja"):
        assert events.describe(event) == "理由：返送、場所：千代田センター"
    with translation.override("en"):
        assert events.describe(event) == "Reason: 返送, Location: 千代田センター"


def test_a_refund_event_names_its_refund_amount_and_method_in_either_language():
    order = place(ListingFactory(price=1000))
    orders.cancel(order, reason="customer_request", actor="system")
    event = order.events.get(kind="refund_requested")
    refund = order.refunds.get()
    with translation.override("ja"):
        assert events.describe(event) == f"返金#{refund.pk} 受付 1,000円（クレジットカード）"
    with translation.override("en"):
        assert events.describe(event).startswith(f"Refund #{refund.pk} requested: ¥1,000")


def test_the_actor_is_a_kind_with_a_reference_to_the_staff_user_or_partner(storefront):
    user = User.objects.create_user("sato", password="x-correct-horse", is_staff=True)
    order = place(ListingFactory(price=1000))
    orders.cancel(order, reason="support", actor=Actor.staff(user), note="お客様から電話")
    staff_event = order.events.get(kind="status_changed", to_status="cancelled")
    assert (staff_event.actor, staff_event.actor_kind, staff_event.actor_user_id, staff_event.note) == (
        "staff:sato", ActorKind.STAFF, user.pk, "お客様から電話")
    partner_event = events.placed(order=order, actor=Actor.partner(storefront.partner))
    assert (partner_event.actor_kind, partner_event.actor_partner_id, partner_event.actor) == (
        ActorKind.PARTNER, storefront.partner.pk, "storefront:storefront")


def test_every_kind_written_is_one_of_the_choices():
    order = place(ListingFactory(price=1000))
    orders.cancel(order, reason="customer_request", actor="system")
    assert set(OrderEvent.objects.values_list("kind", flat=True)) <= set(OrderEvent.Kind.values)
    with pytest.raises(ValueError):
        events.build(order=order, kind="made_up_kind", actor="system")


@pytest.mark.parametrize(("given", "kind", "label"), [
    ("system", ActorKind.SYSTEM, "system"),
    ("system:konbini_expiry", ActorKind.SYSTEM, "system:konbini_expiry"),
    ("staff:agent", ActorKind.STAFF, "staff:agent"),
    ("konbini_chain:ローソン", ActorKind.PARTNER, "konbini_chain:ローソン"),
    ("seed_demo", ActorKind.SYSTEM, "seed_demo"),
])
def test_an_actor_given_as_its_label_keeps_that_label_and_gets_its_kind(given, kind, label):
    actor = Actor.of(given)
    assert (actor.kind, actor.label, str(actor)) == (kind, label, label)


def test_cancelling_many_orders_takes_the_statements_of_one(django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.services import cancellation

    def statements(n: int) -> int:
        ids = [place(ListingFactory(price=1000), external_id=f"many-{n}-{i}").pk for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            cancellation.cancel_orders(ids, reason="support", actor="system")
        return len(queries)

    one = statements(1)
    assert statements(20) == one
    order = place(ListingFactory(price=1000), external_id="many-x")
    with django_assert_max_num_queries(one):
        cancellation.cancel_orders([order.pk], reason="support", actor="system")
