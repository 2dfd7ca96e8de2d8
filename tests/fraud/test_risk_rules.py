"""Risk score at placement (SPEC §5): every rule firing and not firing at its threshold, and
what the score does to the order (≥ 70 held for review, ≥ 90 cancelled)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.timeutil import now
from fraud import rules
from fraud.models import Report, ReportType, RiskRule
from fraud.services import reports
from payments.models import Payment, Refund, SandboxGatewayCapture
from shop.models import Listing
from tests.factories import HOME, ListingFactory, place
from tests.fraud.helpers import OSAKA, fired, login, only_weights, refuse_cod

pytestmark = pytest.mark.django_db

T0 = now().replace(microsecond=0)


def test_every_default_rule_is_seeded_with_a_japanese_description():
    assert set(RiskRule.objects.values_list("code", flat=True)) == set(rules.DEFAULT_RISK_RULES)
    for rule in RiskRule.objects.all():
        assert rule.description == rules.DEFAULT_RISK_RULES[rule.code][0]
        assert rule.weight == rules.DEFAULT_RISK_RULES[rule.code][1]


# --- new device within 24 h -----------------------------------------------------------------

def test_new_device_login_just_inside_24_hours_fires():
    with time_machine.travel(T0, tick=False):
        login("cust-1", "iphone-new")
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59, seconds=59), tick=False):
        order = place(ListingFactory())
    assert "new_device_24h" in fired(order)


def test_new_device_login_exactly_24_hours_ago_no_longer_fires():
    with time_machine.travel(T0, tick=False):
        login("cust-1", "iphone-new")
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        order = place(ListingFactory())
    assert "new_device_24h" not in fired(order)


def test_login_from_a_known_device_does_not_fire():
    with time_machine.travel(T0 - timedelta(days=3), tick=False):
        login("cust-1", "home-pc")
    with time_machine.travel(T0, tick=False):
        login("cust-1", "home-pc")
        order = place(ListingFactory())
    assert "new_device_24h" not in fired(order)


# --- digital order from a new device (seed 002: a streamed video) -------------------------

def test_digital_order_after_a_new_device_login_fires_both_device_rules():
    login("cust-1", "unknown-android")
    order = place(ListingFactory(digital=True))
    assert {"new_device_24h", "digital_new_device"} <= set(fired(order))


def test_physical_order_after_a_new_device_login_does_not_fire_the_digital_rule():
    login("cust-1", "unknown-android")
    order = place(ListingFactory())
    assert "digital_new_device" not in fired(order)


def test_digital_order_without_a_new_device_does_not_fire():
    order = place(ListingFactory(digital=True))
    assert "digital_new_device" not in fired(order)


def test_seed_002_takeover_digital_purchase_is_held_for_review():
    login("cust-1", "unknown-android")
    order = place(ListingFactory(digital=True, price=400))
    assert order.status == "on_hold"
    assert order.risk_score == 70


# --- new shipping address ---------------------------------------------------------------------

def test_first_order_to_an_address_fires_new_address():
    assert "new_address" in fired(place(ListingFactory()))


def test_same_address_typed_differently_is_not_new():
    place(ListingFactory())
    again = place(ListingFactory(), destination={**HOME, "address_line": "千代田一丁目１番"})
    assert "new_address" not in fired(again)


def test_another_customers_address_is_new_to_this_customer():
    place(ListingFactory(), external_id="cust-a")
    assert "new_address" in fired(place(ListingFactory(), external_id="cust-b"))


def test_pickup_store_orders_have_no_address_rule():
    from tests.factories import StoreFactory

    store = StoreFactory()
    order = place(ListingFactory(), destination={"type": "pickup_store", "store_code": store.code})
    assert "new_address" not in fired(order) and order.address_key == ""


# --- COD ------------------------------------------------------------------------------------

def test_cod_fires_and_card_does_not():
    assert "cod" in fired(place(ListingFactory(), method="cod"))
    assert "cod" not in fired(place(ListingFactory(), method="card"))


# --- high value -----------------------------------------------------------------------------

def test_total_at_the_threshold_does_not_fire_high_value():
    assert "high_value" not in fired(place(ListingFactory(price=50_000)))


def test_total_one_yen_over_the_threshold_fires_high_value():
    assert "high_value" in fired(place(ListingFactory(price=50_001)))


# --- unverified address -------------------------------------------------------------------

def test_postal_code_of_another_prefecture_fires_unverified_on_a_card_order():
    order = place(ListingFactory(), destination={**HOME, "prefecture": "大阪府"})
    assert "address_unverified" in fired(order)


def test_matching_postal_code_does_not_fire_unverified():
    assert "address_unverified" not in fired(place(ListingFactory()))
    assert "address_unverified" not in fired(place(ListingFactory(), destination=OSAKA))


# --- COD refusals at the address (90 days) -------------------------------------------------

def _refused_cod_at_home(at):
    with time_machine.travel(at, tick=False):
        return refuse_cod(place(ListingFactory(), method="cod", external_id="cust-x"))


def test_refusal_at_the_address_within_90_days_fires():
    _refused_cod_at_home(T0)
    with time_machine.travel(T0 + timedelta(days=90) - timedelta(seconds=1), tick=False):
        assert "address_cod_refusals" in fired(place(ListingFactory()))


def test_refusal_90_days_ago_no_longer_fires():
    _refused_cod_at_home(T0)
    with time_machine.travel(T0 + timedelta(days=90), tick=False):
        assert "address_cod_refusals" not in fired(place(ListingFactory()))


def test_refusal_at_another_address_does_not_fire():
    _refused_cod_at_home(T0)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert "address_cod_refusals" not in fired(place(ListingFactory(), destination=OSAKA))


# --- order velocity -----------------------------------------------------------------------

def test_two_earlier_orders_within_the_hour_do_not_fire_velocity():
    listing = ListingFactory()
    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            place(listing)
        assert "order_velocity" not in fired(place(listing))


def test_third_earlier_order_within_the_hour_fires_velocity():
    listing = ListingFactory()
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            place(listing)
    with time_machine.travel(T0 + timedelta(minutes=59, seconds=59), tick=False):
        assert "order_velocity" in fired(place(listing))


def test_orders_older_than_the_window_do_not_count():
    listing = ListingFactory()
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            place(listing)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert "order_velocity" not in fired(place(listing))


# --- open report on the customer ---------------------------------------------------------

def test_open_report_on_the_customer_fires():
    first = place(ListingFactory())
    reports.open_report(type="unauthorized_order", customer=first.customer, orders=[first])
    assert "open_report" in fired(place(ListingFactory()))


def test_closed_report_does_not_fire():
    first = place(ListingFactory())
    report = reports.open_report(type="other", customer=first.customer)
    reports.start(report, actor="staff:a")
    reports.dismiss(report, actor="staff:a", note="誤報")
    assert "open_report" not in fired(place(ListingFactory()))


def test_a_pending_risk_review_is_not_an_open_report():
    only_weights(high_value=70)
    held = place(ListingFactory(price=50_001))
    assert held.status == "on_hold"
    assert "open_report" not in fired(place(ListingFactory()))


# --- weights, disabled rules and the score's effect --------------------------------------

def test_score_is_the_sum_of_weights_capped_at_100():
    only_weights(new_address=60, high_value=60)
    order = place(ListingFactory(price=50_001))
    assert order.risk_score == 100


def test_disabled_rule_does_not_fire():
    RiskRule.objects.filter(code="new_address").update(enabled=False)
    assert "new_address" not in fired(place(ListingFactory()))


def test_fired_rules_are_kept_in_words_with_their_weight_at_the_time():
    only_weights(new_address=15)
    order = place(ListingFactory())
    RiskRule.objects.filter(code="new_address").update(weight=50, description="変更後")
    order.refresh_from_db()
    assert order.risk_rules == [{"code": "new_address", "description": rules.DEFAULT_RISK_RULES["new_address"][0],
                                 "weight": 15}]
    from shop import events

    assert "リスクスコア 15" in events.describe(order.events.get(kind="risk_assessed"))


def test_score_69_is_placed_normally():
    only_weights(new_address=69)
    order = place(ListingFactory())
    assert order.status == "processing" and order.risk_score == 69
    assert not Report.objects.exists()


def test_score_70_is_held_with_a_risk_review_report():
    only_weights(new_address=70)
    order = place(ListingFactory())
    assert order.status == "on_hold" and order.risk_score == 70
    report = Report.objects.get()
    assert report.type == ReportType.RISK_REVIEW and list(report.orders.all()) == [order]
    assert "70" in report.description


def test_a_held_card_order_is_captured_once_and_stays_held_until_reviewed():
    only_weights(new_address=70)
    order = place(ListingFactory(price=2500))
    order.refresh_from_db()
    assert order.status == "on_hold"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount) == ("paid", 2500)
    assert SandboxGatewayCapture.objects.get().status == "captured"


def test_score_89_is_held_not_cancelled():
    only_weights(new_address=89)
    order = place(ListingFactory())
    assert (order.status, order.risk_score) == ("on_hold", 89)


def test_score_90_is_created_then_cancelled_with_stock_released_and_the_card_never_charged():
    only_weights(new_address=90)
    listing = ListingFactory(stock=5, price=3000)
    order = place(listing, quantity=2)
    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancellation_reason == "risk_rejected" and order.risk_score == 90
    listing.refresh_from_db()
    assert listing.stock == 5
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.captured_amount, payment.gateway_reference) == ("voided", 0, "")
    assert not SandboxGatewayCapture.objects.exists()  # the gateway was never called
    assert not Refund.objects.filter(order=order).exists()  # nothing taken, nothing to give back
    report = Report.objects.get()
    assert report.type == ReportType.RISK_REVIEW and report.checks.filter(code="decided_order").exists()
    assert not order.messages.filter(kind="order_confirmed").exists()
    assert order.messages.filter(kind="cancelled").exists()


def test_score_90_konbini_order_voids_the_payment():
    only_weights(new_address=90)
    order = place(ListingFactory(), method="konbini")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Payment.objects.get(order=order).status == Payment.Status.VOIDED
    assert not order.messages.filter(kind="payment_instructions").exists()


def test_held_konbini_order_gets_no_payment_instructions_yet():
    only_weights(new_address=70)
    order = place(ListingFactory(), method="konbini")
    assert order.status == "on_hold"
    assert not order.messages.filter(kind="payment_instructions").exists()


def test_held_digital_order_is_not_delivered_yet():
    only_weights(new_address=0, digital_new_device=70)
    login("cust-1", "dev-x")
    order = place(ListingFactory(digital=True))
    assert order.status == "on_hold"
    assert Listing.objects.filter(pk=order.lines.get().listing_id).exists()
