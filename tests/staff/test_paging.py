"""Paging at 1M orders (issue 17): a page after the first picks its ids on the list's index, the
queues walk their own partial indexes (``callback_open_queue``, ``pickup_locked_queue``,
``order_review_queue``), the partial searches page a list of ids."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from shop.models import CallbackRequest, Customer
from staff import selectors
from tests import factories
from tests.staff import scenario
from tests.staff.test_queries import _queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def callbacks_53() -> list[CallbackRequest]:
    customer = factories.CustomerFactory(name="順番")
    start = timezone.now() - timedelta(days=1)
    made = []
    for i in range(53):
        with time_machine.travel(start + timedelta(minutes=i), tick=False):
            made.append(scenario.callback(customer, f"用件{i:02d}"))
    return made


def test_the_second_page_of_a_queue_is_the_rest_in_order_in_as_many_queries(agent, callbacks_53):
    page = selectors.paginate(selectors.open_callbacks(), 2)
    assert [cb.topic for cb in page] == ["用件50", "用件51", "用件52"]
    assert [cb.topic for cb in selectors.paginate(selectors.open_callbacks(), 1)] == [f"用件{i:02d}" for i in range(50)]
    body = agent.get("/staff/callbacks/?page=2").content.decode()
    assert re.findall(r"用件\d\d", body) == ["用件50", "用件51", "用件52"]
    assert _queries(agent, "/staff/callbacks/?page=2") == _queries(agent, "/staff/callbacks/?page=1")


def test_a_name_search_pages_its_matches_in_name_order(agent):
    Customer.objects.bulk_create(Customer(external_id=f"s{i}", email=f"s{i}@example.jp", name=f"佐藤{i:02d}")
                                 for i in range(52))
    page = selectors.paginate(selectors.search("佐藤").customer_matches, 2)
    assert [c.name for c in page] == ["佐藤50", "佐藤51"]
    body = agent.get("/staff/search/?q=佐藤&page=2").content.decode()
    assert "佐藤50" in body and "佐藤49" not in body and 'data-testid="matches-truncated"' not in body


def test_too_many_name_matches_ask_for_more(agent, monkeypatch):
    monkeypatch.setattr(selectors, "MATCHES_MAX", 2)
    Customer.objects.bulk_create(Customer(external_id=f"t{i}", email=f"t{i}@example.jp", name=f"田中{i}")
                                 for i in range(3))
    result = selectors.search("田中")
    assert result.customer_matches.truncated and len(result.customer_matches) == 2
    assert "一致するお客様が2件を超えた" in agent.get("/staff/search/?q=田中").content.decode()


@pytest.mark.postgres
@pytest.mark.parametrize(("queue", "index"), [
    (selectors.open_callbacks, "callback_open_queue"),
    (selectors.pickups_locked, "pickup_locked_queue"),
    (selectors.orders_on_hold, "order_review_queue"),
])
def test_each_queue_is_read_in_the_order_of_its_own_index(queue, index):
    """Were the index missing, or its condition or order not the queue's, the page would be every
    queued row sorted: the plan left with sorts and scans disabled names the index."""
    sql, params = queue()[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan and "Sort" not in plan


def test_rows_that_tie_on_the_sort_key_page_by_id():
    """Konbini payments due today share one deadline: the id orders them, on every page alike."""
    customer = factories.CustomerFactory()
    with time_machine.travel(timezone.now(), tick=False):
        made = [scenario.callback(customer, f"同時{i:02d}") for i in range(52)]
    pages = [list(selectors.paginate(selectors.open_callbacks(), n)) for n in (1, 2)]
    assert [cb.pk for cb in pages[0] + pages[1]] == [cb.pk for cb in made]
