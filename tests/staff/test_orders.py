"""Search, the order page and the cancel action (through shop.services.orders.cancel)."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from shop.models import CallbackRequest, OrderStatus
from shop.services import customers, shipments
from tests import factories
from tests.staff import scenario
from tests.staff.submit import open_form, submit

pytestmark = pytest.mark.django_db


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


# --- search ----------------------------------------------------------------------------------

def test_full_width_order_number_goes_straight_to_the_order(agent, card_order):
    response = agent.get("/staff/search/", {"q": _fullwidth(card_order.number)})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/orders/{card_order.number}/"


def test_order_number_without_hyphens_goes_straight_to_the_order(agent, card_order):
    response = agent.get("/staff/search/", {"q": card_order.number.replace("-", "")})
    assert response["Location"] == f"/staff/orders/{card_order.number}/"


def test_tracking_number_finds_the_order(agent, card_order):
    shipments.register(order=card_order, carrier="yamato", tracking_number="123456789013", actor="warehouse")
    response = agent.get("/staff/search/", {"q": "1234-5678-9013"})
    assert response["Location"] == f"/staff/orders/{card_order.number}/"


def test_email_of_a_customer_with_one_order_goes_to_that_order(agent, card_order):
    response = agent.get("/staff/search/", {"q": card_order.customer.email.upper()})
    assert response["Location"] == f"/staff/orders/{card_order.number}/"


def test_phone_of_a_customer_with_several_orders_goes_to_the_customer(agent, listing, card_order):
    factories.place(listing, method="card")
    response = agent.get("/staff/search/", {"q": "０９０－１２３４－５６７８"})
    assert response["Location"] == f"/staff/customers/{card_order.customer_id}/"


def test_several_matches_are_listed(agent, listing):
    first = factories.place(listing, external_id="a")
    second = factories.place(listing, external_id="b")
    response = agent.get("/staff/search/", {"q": "09012345678"})  # both customers share the phone
    body = response.content.decode()
    assert response.status_code == 200
    assert first.number in body and second.number in body


def test_nothing_found_says_so(agent, db):
    response = agent.get("/staff/search/", {"q": "999-9999999-9999999"})
    assert "見つかりませんでした" in response.content.decode()


# --- order page ------------------------------------------------------------------------------

def test_order_page_shows_totals_in_yen_and_times_in_jst(agent, listing):
    with time_machine.travel("2026-11-23 01:30:00+00:00", tick=False):  # 10:30 JST
        order = factories.place(listing, quantity=2)
    body = agent.get(f"/staff/orders/{order.number}/").content.decode()
    assert "25,600円" in body
    assert "2026/11/23 10:30" in body


def test_order_page_accepts_the_number_without_hyphens(agent, card_order):
    response = agent.get(f"/staff/orders/{card_order.number.replace('-', '')}/")
    assert response.status_code == 302 and response["Location"] == f"/staff/orders/{card_order.number}/"


def test_unknown_order_is_404(agent, db):
    assert agent.get("/staff/orders/000-0000000-0000000/").status_code == 404


def test_tracking_table_reads_like_the_seed(agent, card_order):
    """seed 003: 荷物状況 | 日付 | 時刻 | 担当店名."""
    shipment = shipments.register(order=card_order, carrier="yamato", tracking_number="123456789013",
                                  actor="warehouse")
    from datetime import datetime

    from backoffice.timeutil import JST

    shipments.record_event(shipment=shipment, type="accepted", occurred_at=datetime(2026, 6, 5, 12, 8, tzinfo=JST),
                           location="大阪茨木AFC支店", actor="carrier")
    body = agent.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert "荷物状況" in body and "担当店名" in body
    assert '荷物受付</td><td class="when">06/05</td><td class="when">12:08</td><td>大阪茨木AFC支店' in body


def test_order_page_query_count_does_not_grow_with_lines_and_events(agent, django_assert_max_num_queries):
    listings = [factories.ListingFactory() for _ in range(6)]
    small = factories.place(listings[0], external_id="s")
    big = factories.place(*listings, external_id="b")
    for order in (small, big):
        # 14 for the order, 6 for its internal notes, their form token and the activity on it (issue 17)
        with django_assert_max_num_queries(20):
            assert agent.get(f"/staff/orders/{order.number}/").status_code == 200


# --- cancel ----------------------------------------------------------------------------------

def test_cancel_confirm_step_says_what_will_happen_and_changes_nothing(agent, card_order):
    response = agent.get(f"/staff/orders/{card_order.number}/actions/cancel/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "在庫を戻します" in body
    assert "12,800円 をクレジットカードへ返金します" in body
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PROCESSING


def test_cancel_runs_the_service_and_the_timeline_shows_it(agent, card_order):
    response = submit(agent, f"/staff/orders/{card_order.number}/actions/cancel/", {"note": "お客様から電話"})
    assert response.status_code == 302
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.CANCELLED
    assert card_order.cancellation_reason == "support"
    page = agent.get(response["Location"]).content.decode()
    assert f"注文 {card_order.number} をキャンセルしました。" in page
    assert "お客様から電話" in page
    assert "staff:support_agent-user" in page
    assert card_order.refunds.get().amount == 12_800


def test_cancel_of_an_order_the_customer_cancelled_meanwhile_shows_the_service_message_and_writes_nothing(
        agent, card_order, storefront):
    url = f"/staff/orders/{card_order.number}/actions/cancel/"
    token = open_form(agent, url)
    assert storefront.json("post", f"/api/v1/orders/{card_order.number}/cancel",
                           {"reason": "customer_request"}).status_code == 200
    events_before = card_order.events.count()
    response = agent.post(url, {"form_token": token})
    assert response.status_code == 409
    assert "この注文は既にキャンセルされています。" in response.content.decode()
    assert card_order.events.count() == events_before


def test_cancel_requires_post_with_csrf(make_staff, card_order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff())
    response = submit(client, f"/staff/orders/{card_order.number}/actions/cancel/", {})
    assert response.status_code == 403
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PROCESSING


def test_cancel_button_is_hidden_once_shipped(agent, card_order):
    shipments.register(order=card_order, carrier="yamato", tracking_number="123456789013", actor="warehouse")
    body = agent.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert 'data-action="cancel"' not in body


# --- call-backs ------------------------------------------------------------------------------

def test_callback_queue_is_oldest_first_and_complete_marks_it_done(agent, card_order):
    customer = card_order.customer
    with time_machine.travel("2026-11-23 00:00:00+00:00", tick=False):
        old = customers.request_callback(customer=customer, phone="090-1111-2222", topic="古い依頼")
    with time_machine.travel("2026-11-23 01:00:00+00:00", tick=False):
        customers.request_callback(customer=customer, phone="090-3333-4444", topic="新しい依頼")
    body = agent.get("/staff/callbacks/").content.decode()
    assert body.index("古い依頼") < body.index("新しい依頼")

    response = submit(agent, f"/staff/callbacks/{old.pk}/actions/complete/", {"outcome": "reached"})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == CallbackRequest.Status.DONE and old.handled_by == "staff:support_agent-user"
    assert old.outcome == CallbackRequest.Outcome.REACHED
    assert "古い依頼" not in agent.get("/staff/callbacks/").content.decode()
    assert "古い依頼" in agent.get("/staff/callbacks/?show=closed").content.decode()  # closed ones stay findable


# --- refunds on the order page -------------------------------------------------------------------

def test_refunded_counts_succeeded_refunds_only_and_shows_in_progress_and_failed_apart(
        agent, django_capture_on_commit_callbacks):
    order = scenario.refunds_in_every_state(django_capture_on_commit_callbacks)
    assert sorted(order.refunds.values_list("status", "amount")) == [
        ("failed", 2_000), ("requested", 1_000), ("succeeded", 3_000)]
    body = agent.get(f"/staff/orders/{order.number}/").content.decode()
    assert 'data-testid="refund-succeeded">3,000円<' in body
    assert 'data-testid="refund-in-progress">1,000円<' in body
    assert 'data-testid="refund-failed">2,000円<' in body
    assert "6,000円" not in body  # the sum of every refund, whatever its state, is not shown as refunded


def test_an_order_without_refunds_shows_nothing_refunded_and_no_pending_lines(agent, card_order):
    body = agent.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert 'data-testid="refund-succeeded">0円<' in body
    assert "refund-in-progress" not in body and "refund-failed" not in body
