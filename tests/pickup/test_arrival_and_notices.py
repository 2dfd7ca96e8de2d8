"""Arrival at the konbini, the pickup keys, the pickup-ready notice, the reminder (SPEC §4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail

from backoffice.timeutil import JST
from pickup.jobs import send_due_pickup_notices, send_pickup_reminders
from pickup.models import Pickup
from pickup.services import parcels
from shop.jobs import send_pending_messages
from shop.models import Message
from tests.factories import StoreFactory
from tests.pickup.conftest import arrive, arrive_and_notify, shipped_pickup_order

pytestmark = pytest.mark.django_db

ARRIVAL = datetime(2026, 11, 23, 14, 0, tzinfo=JST)


def ready_messages(order):
    return list(Message.objects.filter(order=order, kind="pickup_ready").order_by("created_at", "id"))


def test_arrival_at_the_right_store_makes_the_order_ready_for_pickup_with_its_keys(store):
    order, shipment = shipped_pickup_order(store)
    arrive(shipment, store.code)
    order.refresh_from_db()
    assert order.status == "ready_for_pickup"
    pickup = order.pickup
    assert pickup.inquiry_number == shipment.tracking_number
    assert pickup.auth_number == order.number[-7:]  # seed 001: 111-2222222-3456789 → 3456789
    assert not pickup.locked and pickup.status == "ready"


def test_arrival_reported_at_another_store_is_recorded_but_moves_nothing(store):
    order, shipment = shipped_pickup_order(store)
    event, created = arrive(shipment, "OTHER1")
    order.refresh_from_db()
    assert created and order.status == "shipped"
    assert not Pickup.objects.filter(order=order).exists()
    assert shipment.events.filter(type="arrived_at_store").count() == 1
    assert order.events.filter(kind="pickup_arrival_ignored").exists()


def test_store_code_typed_full_width_still_matches(store):
    order, shipment = shipped_pickup_order(store)
    arrive(shipment, store.code.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    order.refresh_from_db()
    assert order.status == "ready_for_pickup"


def test_random_auth_number_source_issues_7_random_digits(store, settings):
    settings.PICKUP_AUTH_NUMBER_SOURCE = "random"
    numbers = set()
    for i in range(5):
        order, shipment = shipped_pickup_order(store, external_id=f"c{i}")
        arrive(shipment, store.code)
        auth = Pickup.objects.get(order=order).auth_number
        assert len(auth) == 7 and auth.isdigit()
        numbers.add(auth)
        # Not derivable from what the shipping mail shows (order number and tracking number).
        assert auth != order.number[-7:]
    assert len(numbers) > 1


def test_notice_goes_out_after_the_delay_exactly_once(store, django_capture_on_commit_callbacks):
    with time_machine.travel(ARRIVAL, tick=False):
        order, shipment = shipped_pickup_order(store)
        send_pending_messages()  # the order confirmation and the shipping mail
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            arrive(shipment, store.code)  # the eager countdown task runs now: too early, nothing sent
        assert ready_messages(order) == []
    with time_machine.travel(ARRIVAL + timedelta(minutes=59, seconds=59), tick=False):
        assert send_due_pickup_notices() == {"sent": 0}
    with time_machine.travel(ARRIVAL + timedelta(minutes=60), tick=False):  # seed 001: 1–2 h; PICKUP_NOTICE_DELAY
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due_pickup_notices() == {"sent": 1}
            assert send_due_pickup_notices() == {"sent": 0}
            assert parcels.send_notice(order.pickup.pk) is False  # the countdown task arriving late
        assert mail.outbox == []  # created in the outbox; the relay e-mails it
        assert send_pending_messages() == {"sent": 1}
    [message] = ready_messages(order)
    assert [m.subject for m in mail.outbox] == [message.subject]
    pickup = Pickup.objects.get(order=order)
    assert pickup.noticed_at == ARRIVAL + timedelta(minutes=60)


def test_countdown_task_sends_the_notice_when_due(store):
    with time_machine.travel(ARRIVAL, tick=False):
        order, shipment = shipped_pickup_order(store)
        arrive(shipment, store.code)
    with time_machine.travel(ARRIVAL + timedelta(minutes=60), tick=False):
        from pickup.tasks import send_pickup_notice

        assert send_pickup_notice.delay(order.pickup.pk).get() is True
    assert len(ready_messages(order)) == 1


def test_keys_work_at_the_terminal_before_the_notice_is_sent(store, lawson):
    with time_machine.travel(ARRIVAL, tick=False):
        order, shipment = shipped_pickup_order(store)
        arrive(shipment, store.code)
        pickup = Pickup.objects.get(order=order)
        r = lawson.json("post", "/api/v1/pickup/tickets", {"store_code": store.code,
                                                            "inquiry_number": pickup.inquiry_number,
                                                            "auth_number": pickup.auth_number})
        assert r.status_code == 201, r.json()
        assert ready_messages(order) == []


@pytest.mark.parametrize("notice_at, deadline", [
    # notice date + 11 days, ending 23:59:59 JST — the JST calendar date counts, not UTC's.
    (datetime(2026, 11, 23, 23, 59, 59, tzinfo=JST), datetime(2026, 12, 4, 23, 59, 59, tzinfo=JST)),
    (datetime(2026, 11, 24, 0, 0, 0, tzinfo=JST), datetime(2026, 12, 5, 23, 59, 59, tzinfo=JST)),
])
def test_deadline_is_the_end_of_the_11th_day_after_the_notice_in_jst(store, notice_at, deadline):
    with time_machine.travel(notice_at - timedelta(minutes=60), tick=False):
        order, shipment = shipped_pickup_order(store)
        arrive(shipment, store.code)
    with time_machine.travel(notice_at, tick=False):
        send_due_pickup_notices()
    pickup = Pickup.objects.get(order=order)
    assert pickup.deadline == deadline
    assert "受取期限: " + f"{deadline:%Y年%-m月%-d日} 23:59" in ready_messages(order)[0].body


def test_a_late_notice_moves_the_deadline_with_it(store):
    """The window counts from the mail (seed 001: メールの受信日から11日以内)."""
    with time_machine.travel(ARRIVAL, tick=False):
        order, shipment = shipped_pickup_order(store)
        arrive(shipment, store.code)
        assert Pickup.objects.get(order=order).deadline == datetime(2026, 12, 4, 23, 59, 59, tzinfo=JST)
    with time_machine.travel(ARRIVAL + timedelta(days=1), tick=False):  # the sweep catches a lost task late
        send_due_pickup_notices()
    assert Pickup.objects.get(order=order).deadline == datetime(2026, 12, 5, 23, 59, 59, tzinfo=JST)


@pytest.mark.parametrize("chain, terminal, first_step", [
    ("lawson", "Loppi", "トップ画面の「各種番号をお持ちの方」をタッチします。"),
    ("ministop", "Loppi", "トップ画面の「各種番号をお持ちの方」をタッチします。"),
    ("familymart", "Famiポート", "トップメニュー画面で「店頭受取サービス」をタッチします。"),
])
def test_the_notice_carries_the_keys_and_the_chains_terminal_steps(chain, terminal, first_step):
    store = StoreFactory(chain=chain)
    order = arrive_and_notify(store, ARRIVAL)
    pickup = Pickup.objects.get(order=order)
    body = ready_messages(order)[0].body
    assert f"お問い合わせ番号（12桁）: {pickup.inquiry_number}" in body
    assert f"認証番号（7桁）: {pickup.auth_number}" in body
    assert f"■ {terminal}での受取方法" in body
    assert f"1. {first_step}" in body
    assert "30分以内にレジに提示" in body
    other = "Famiポート" if terminal == "Loppi" else "各種番号をお持ちの方"
    assert other not in body


def test_reminder_is_sent_once_3_days_before_the_deadline(store):
    order = arrive_and_notify(store, ARRIVAL)
    deadline = Pickup.objects.get(order=order).deadline
    with time_machine.travel(deadline - timedelta(days=3, seconds=1), tick=False):
        assert send_pickup_reminders() == {"sent": 0}
    with time_machine.travel(deadline - timedelta(days=3), tick=False):
        assert send_pickup_reminders() == {"sent": 1}
        assert send_pickup_reminders() == {"sent": 0}
    [reminder] = Message.objects.filter(order=order, kind="pickup_reminder")
    assert "2026年12月4日 23:59" in reminder.body and order.pickup.auth_number in reminder.body


def test_staff_can_resend_the_notice_without_moving_the_deadline(store):
    order = arrive_and_notify(store, ARRIVAL)
    deadline = Pickup.objects.get(order=order).deadline
    with time_machine.travel(ARRIVAL + timedelta(days=3), tick=False):
        parcels.resend_notice(order.pickup, actor="staff:agent")
        parcels.resend_notice(order.pickup, actor="staff:agent")
    assert len(ready_messages(order)) == 3
    pickup = Pickup.objects.get(order=order)
    assert pickup.deadline == deadline and pickup.notice_resent_count == 2
    assert order.events.filter(kind="pickup_notice_resent", actor="staff:agent").count() == 2


def test_order_resource_shows_the_keys_once_ready_and_the_auth_number_only_to_the_storefront(
        store, storefront, warehouse):
    order, shipment = shipped_pickup_order(store)
    before = storefront.get(f"/api/v1/orders/{order.number}").json()["pickup"]
    assert before == {"store_code": store.code, "status": "awaiting_arrival", "deadline": None,
                      "inquiry_number": None, "auth_number": None}
    arrive(shipment, store.code)
    pickup = Pickup.objects.get(order=order)
    body = storefront.get(f"/api/v1/orders/{order.number}").json()
    assert body["status"] == "ready_for_pickup"
    assert body["pickup"]["inquiry_number"] == pickup.inquiry_number
    assert body["pickup"]["auth_number"] == pickup.auth_number
    assert body["pickup"]["status"] == "ready" and body["pickup"]["deadline"].endswith("23:59:59+09:00")
    seen_by_warehouse = warehouse.get(f"/api/v1/orders/{order.number}").json()["pickup"]
    assert seen_by_warehouse["inquiry_number"] == pickup.inquiry_number
    assert seen_by_warehouse["auth_number"] is None


def test_order_resource_with_a_pickup_stays_constant_query(store, storefront, make_parcel,
                                                            django_assert_max_num_queries):
    pickup = make_parcel(store)
    with django_assert_max_num_queries(12) as ctx:
        storefront.get(f"/api/v1/orders/{pickup.order.number}")
    baseline = len(ctx.captured_queries)
    timeline = pickup.order.events.count()
    parcels.resend_notice(pickup, actor="staff:agent")
    assert pickup.order.events.count() > timeline  # same shape, more rows on the timeline
    with django_assert_max_num_queries(baseline):
        storefront.get(f"/api/v1/orders/{pickup.order.number}")


def test_the_carrier_reports_the_arrival_through_the_api(store, carrier, storefront):
    order, shipment = shipped_pickup_order(store)
    r = carrier.json("post", f"/api/v1/shipments/{shipment.tracking_number}/events",
                     {"type": "arrived_at_store", "occurred_at": ARRIVAL.isoformat(), "location": store.name,
                      "store_code": store.code})
    assert r.status_code == 201, r.json()
    assert r.json()["order_status"] == "ready_for_pickup"
    body = storefront.get(f"/api/v1/orders/{order.number}").json()
    assert body["pickup"]["status"] == "ready" and body["pickup"]["auth_number"] == order.number[-7:]
