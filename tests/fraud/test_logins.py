"""What staff see next to a reported order: the logins in the 72 hours before it (seed 002)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.timeutil import now
from fraud.services import logins
from tests.factories import ListingFactory, place
from tests.fraud.helpers import login

pytestmark = pytest.mark.django_db

T0 = now().replace(microsecond=0)


def test_logins_shown_are_those_of_the_72_hours_before_the_order():
    login("cust-1", "too-old", at=T0 - timedelta(hours=72) - timedelta(seconds=1))
    edge = login("cust-1", "edge", at=T0 - timedelta(hours=72))
    recent = login("cust-1", "phone", at=T0 - timedelta(minutes=5))
    login("other", "phone", at=T0 - timedelta(minutes=5))  # another customer
    with time_machine.travel(T0, tick=False):
        order = place(ListingFactory())
    login("cust-1", "after", at=T0 + timedelta(minutes=1))
    assert logins.logins_before(order.customer_id, [order]) == [edge, recent]


def test_with_several_orders_the_window_spans_from_72_hours_before_the_first_to_the_last():
    with time_machine.travel(T0, tick=False):
        first = place(ListingFactory())
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):  # a login is never in the future
        between = login("cust-1", "dev", at=T0 + timedelta(hours=1))
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        second = place(ListingFactory())
    early = login("cust-1", "dev0", at=T0 - timedelta(hours=71))
    assert logins.logins_before(first.customer_id, [second, first]) == [early, between]


def test_new_device_message_names_the_device_and_time():
    event = login("cust-1", "android-9", at=T0)
    message = event.customer.messages.get(kind="new_device_login")
    assert "新しい端末" in message.subject
    assert "203.0.113.7" in message.body and "iPhone" in message.body
