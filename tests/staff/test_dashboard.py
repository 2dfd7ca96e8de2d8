"""The dashboard counts what needs a person now, and shows the next konbini maintenance window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine

from backoffice.timeutil import JST
from tests import factories
from tests.staff import scenario

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


def _tiles(body: str) -> dict[str, int]:
    return {key: int(n) for key, n in re.findall(r'data-tile="([a-z_]+)">\s*<div class="count">(\d+)</div>', body)}


def test_dashboard_counts_each_queue(agent, django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY - timedelta(days=6), tick=False):
        scenario.konbini_order_with_code(external_id="due-today")  # deadline: today 23:59:59
    with time_machine.travel(MONDAY - timedelta(days=5), tick=False):
        scenario.konbini_order_with_code(external_id="due-tomorrow")
    with time_machine.travel(MONDAY - timedelta(days=10), tick=False):
        scenario.pickup_order(external_id="expiring")  # deadline within two days
    with time_machine.travel(MONDAY, tick=False):
        scenario.pickup_order(external_id="locked", failed_attempts=5)
        scenario.held_order()
        scenario.failed_card_refund(django_capture_on_commit_callbacks)
        scenario.callback(factories.CustomerFactory(), "至急")
        body = agent.get("/staff/").content.decode()
    tiles = _tiles(body)
    assert tiles == {
        "konbini_due_today": 1, "pickups_expiring": 1, "pickups_locked": 1, "on_hold": 1,
        "reports_high": 0, "reports_normal": 1,  # the held order's risk-review case
        "failed_refunds": 1, "callbacks": 1, "seller_closures": 0, "cod_blocked": 0, "webhooks_failing": 0,
    }


def test_dashboard_shows_the_next_maintenance_window_in_jst(agent):
    with time_machine.travel(MONDAY, tick=False):  # after 2026-11-19's window
        body = agent.get("/staff/").content.decode()
    assert "2027/01/21 03:00 〜 05:00" in body


def test_callbacks_on_the_dashboard_are_oldest_first(agent):
    customer = factories.CustomerFactory()
    with time_machine.travel(MONDAY, tick=False):
        scenario.callback(customer, "一番目")
    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=False):
        scenario.callback(customer, "二番目")
        body = agent.get("/staff/").content.decode()
    assert body.index("一番目") < body.index("二番目")


def test_finance_sees_no_link_to_queues_it_may_not_open(finance):
    body = finance.get("/staff/").content.decode()
    assert 'href="/staff/callbacks/"' not in body
    assert 'href="/staff/refunds/failed/"' in body
