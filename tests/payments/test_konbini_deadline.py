"""The payment deadline: 23:59:59 JST on issue date + 6 days (SPEC §3, seed 003)."""

from __future__ import annotations

import pytest
import time_machine

from payments.konbini.chains import KONBINI_PAYMENT_DAYS
from shop.models import Message
from tests.factories import ListingFactory, order_payload
from tests.payments.konbini_support import jst

pytestmark = pytest.mark.django_db


def _deadline_when_placed_at(storefront, moment) -> str:
    with time_machine.travel(moment, tick=False):
        r = storefront.json("post", "/api/v1/orders", order_payload(ListingFactory(), method="konbini"))
    assert r.status_code == 201, r.json()
    return r.json()["payment_deadline"]


def test_spec_example_placed_2026_11_23_10_00_is_due_2026_11_29_23_59_59(storefront):
    assert KONBINI_PAYMENT_DAYS == 6
    assert _deadline_when_placed_at(storefront, jst(2026, 11, 23, 10, 0)) == "2026-11-29T23:59:59+09:00"


def test_placed_at_23_59_jst_still_counts_from_that_day(storefront):
    assert _deadline_when_placed_at(storefront, jst(2026, 11, 23, 23, 59, 59)) == "2026-11-29T23:59:59+09:00"


def test_placed_at_00_00_jst_counts_from_the_new_day(storefront):
    assert _deadline_when_placed_at(storefront, jst(2026, 11, 24, 0, 0)) == "2026-11-30T23:59:59+09:00"


def test_the_japanese_calendar_day_counts_not_the_utc_one(storefront):
    # 2026-11-23 16:00 UTC is already 2026-11-24 01:00 in Tokyo.
    assert _deadline_when_placed_at(storefront, jst(2026, 11, 24, 1, 0)) == "2026-11-30T23:59:59+09:00"


def test_the_deadline_crosses_the_month_and_year_end(storefront):
    assert _deadline_when_placed_at(storefront, jst(2026, 12, 28, 9, 0)) == "2027-01-03T23:59:59+09:00"


def test_payment_instructions_come_separately_from_the_confirmation(storefront):
    with time_machine.travel(jst(2026, 11, 23, 10, 0), tick=False):
        number = storefront.json("post", "/api/v1/orders",
                                 order_payload(ListingFactory(price=1500), method="konbini")).json()["order_number"]
    messages = {m.kind: m for m in Message.objects.filter(order__number=number)}
    assert set(messages) == {"order_confirmed", "payment_instructions"}
    assert "2026年11月29日 23:59" in messages["payment_instructions"].body
    assert "1,500円" in messages["payment_instructions"].body
