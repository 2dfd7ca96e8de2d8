"""Issue 17 without a browser: queues' SLA, per-group tiles, priority by report type, call-back
claims, notes and the activity log (with admin LogEntry), COD blocks, partial searches, CSV
export and the error pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from backoffice.errors import Conflict
from fraud.models import AddressReputation, ReportPriority, ReportType
from fraud.services import addresses, reports
from fraud.services.reputations import reputation
from shop.models import CallbackRequest
from shop.services import customers
from staff import selectors, sla
from staff.models import Activity, Note
from staff.permissions import FINANCE, FRAUD, SUPPORT
from tests import factories
from tests.staff import scenario
from tests.staff.submit import submit

pytestmark = pytest.mark.django_db

SAPPORO = {"type": "home", "postal_code": "060-0042", "prefecture": "北海道", "city": "札幌市中央区",
           "address_line": "大通西3丁目7番1号", "recipient_name": "山田太郎", "phone": "090-1234-5678"}


def test_sla_figures_of_the_queues():
    assert sla.SLA["callbacks"] == timedelta(hours=2)
    assert sla.SLA["reports_high"] == timedelta(hours=4)
    assert sla.SLA["reports_normal"] == timedelta(hours=24)
    now = timezone.now()
    assert sla.is_overdue("callbacks", now - timedelta(hours=2, minutes=1), now)
    assert not sla.is_overdue("callbacks", now - timedelta(hours=1, minutes=59), now)


def test_an_unauthorized_order_report_starts_high_and_others_normal():
    customer = factories.CustomerFactory()
    assert reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, customer=customer).priority == ReportPriority.HIGH
    other = reports.open_report(type=ReportType.OTHER, customer=factories.CustomerFactory())
    assert other.priority == ReportPriority.NORMAL


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_callback_tile_counts_overdue_and_links_to_its_list(make_staff):
    user = make_staff(SUPPORT, "sato")
    with time_machine.travel(timezone.now() - timedelta(hours=3)):
        scenario.callback(factories.CustomerFactory(), "古い")
    scenario.callback(factories.CustomerFactory(), "新しい")
    tile = next(t for t in selectors.dashboard(user)["tiles"] if t.key == "callbacks")
    assert (tile.count, tile.overdue, tile.url) == (2, 1, "/staff/callbacks/")
    assert "1件が目安時間を超過" in _client(user).get("/staff/").content.decode()


def test_tiles_are_per_group(make_staff):
    finance, analyst = make_staff(FINANCE, "keiri"), make_staff(FRAUD, "fujii")
    finance_tiles = [t.key for t in selectors.dashboard(finance)["tiles"]]
    analyst_tiles = [t.key for t in selectors.dashboard(analyst)["tiles"]]
    assert finance_tiles[0] == "failed_refunds" and "callbacks" not in finance_tiles
    assert analyst_tiles[0] == "reports_high" and "transfers_ready" not in analyst_tiles
    scenario.callback(factories.CustomerFactory(), "至急")
    assert "tel:" not in _client(finance).get("/staff/").content.decode()


def test_a_claimed_callback_is_refused_to_another_agent_with_who_has_it(card_order):
    cb = customers.request_callback(customer=card_order.customer, phone="090-1111-2222", topic="至急")
    customers.claim_callback(request_id=cb.pk, staff="staff:sato")
    with pytest.raises(Conflict, match="staff:sato が対応中です"):
        customers.claim_callback(request_id=cb.pk, staff="staff:suzuki")
    done = customers.complete_callback(request_id=cb.pk, staff="staff:sato", outcome="reached", note="解決")
    assert (done.status, done.outcome, done.outcome_note) == (CallbackRequest.Status.DONE, "reached", "解決")


def test_a_note_and_an_action_are_in_the_activity_log_and_the_admin_log(agent, card_order):
    url = f"/staff/notes/order/{card_order.pk}/actions/add/"
    assert submit(agent, url, {"body": "朝番へ：配送業者に確認"}).status_code == 302
    assert Note.objects.get().body == "朝番へ：配送業者に確認"
    assert submit(agent, f"/staff/orders/{card_order.number}/actions/cancel/", {"note": ""}).status_code == 302
    assert list(Activity.objects.order_by("at", "id").values_list("action", flat=True)) == ["add_note", "cancel"]
    assert LogEntry.objects.count() == 2
    log = agent.get("/staff/activity/?action=cancel").content.decode()
    assert card_order.number in log and "朝番へ" not in log


def test_finance_may_not_note_a_callback_it_may_not_see(finance, card_order):
    cb = customers.request_callback(customer=card_order.customer, phone="090-1111-2222", topic="至急")
    assert finance.get(f"/staff/notes/callbackrequest/{cb.pk}/actions/add/").status_code == 404


def test_the_address_as_printed_finds_its_key_and_cod_is_blocked_by_hand(analyst):
    order = factories.place(factories.ListingFactory(), destination=SAPPORO, external_id="sapporo")
    factories.place(factories.ListingFactory(), external_id="tokyo")
    assert addresses.find_keys("大通西3丁目7番") == [order.address_key]
    assert addresses.find_keys("大通西３－７") == [order.address_key]
    assert addresses.find_keys("大通西3丁目70番") == []
    url = "/staff/addresses/actions/block/?key=" + order.address_key
    assert submit(analyst, url, {"key": order.address_key, "reason": "電話で通報"}).status_code == 302
    rep = AddressReputation.objects.get(key=order.address_key)
    assert rep.cod_blocked and rep.cod_block_reason == "電話で通報" and rep.cod_blocked_by.startswith("staff:")
    with pytest.raises(Conflict):
        addresses.block_cod(order.address_key, actor="staff:x", reason="二度目")


def test_an_address_search_reads_the_latest_orders_and_every_known_reputation(monkeypatch):
    """At 1M orders the search reads a bounded range (the latest ``ADDRESS_SEARCH_ORDERS``), not
    the whole table; an address with a reputation row (refused, blocked) is found however old."""
    monkeypatch.setattr(addresses, "ADDRESS_SEARCH_ORDERS", 1)
    old = factories.place(factories.ListingFactory(), destination=SAPPORO, external_id="sapporo")
    latest = factories.place(factories.ListingFactory(), destination={**SAPPORO, "address_line": "北1条西2丁目"},
                             external_id="sapporo-2")
    assert addresses.find_keys("北1条西2") == [latest.address_key]
    assert addresses.find_keys("大通西3丁目7番") == []  # only an older order went there
    reputation(old.address_key)
    assert addresses.find_keys("大通西3丁目7番") == [old.address_key]


def test_search_by_kana_name_partial_number_and_email_start(agent):
    customer = factories.CustomerFactory(name="スズキ ハナコ", email="hanako.suzuki@example.jp")
    order = factories.place(factories.ListingFactory(), external_id="someone-else")
    assert list(selectors.search("すずき はなこ").customer_matches) == [customer]
    assert customer in selectors.search("hanako.su").customer_matches
    digits = order.number.replace("-", "")
    assert order in selectors.search(digits[-9:]).order_matches  # the end, across the second hyphen
    assert order in selectors.search(digits[3:10]).order_matches  # the middle segment
    body = agent.get("/staff/search/?q=" + digits[-9:]).content.decode()
    assert order.number in body


def test_csv_export_keeps_the_filters_and_is_logged(agent):
    with time_machine.travel(timezone.now() - timedelta(hours=3)):
        scenario.callback(factories.CustomerFactory(name="古川"), "古い")
    response = agent.get("/staff/callbacks/?show=open&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "受付日時" and rows[1][1] == "古川" and len(rows) == 2
    assert Activity.objects.filter(action="export_csv").exists()


def test_error_pages_are_friendly_and_japanese(agent, make_staff):
    response = agent.get("/staff/orders/000-0000000-0000000/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404 and "ページが見つかりません" in response.content.decode()
    assert Client().get("/api/v1/nowhere").json()["code"] == "not_found"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_staff(SUPPORT, "sato"))
    response = strict.post("/staff/orders/cancel/", {"ids": "1"})
    body = response.content.decode()
    assert response.status_code == 403 and "画面の有効期限が切れました" in body and "DEBUG" not in body
    assert Client().get("/favicon.ico").status_code == 301
