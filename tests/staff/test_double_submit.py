"""A staff form submitted twice (double click, two tabs, browser resubmit) runs its action once
(issue 11: "A staff partial-refund form submitted twice creates two refunds").

The confirm page carries a one-time token; the POST spends it in the action's transaction
(backoffice.formtokens). Concurrent submits are tested on PostgreSQL with one connection per
thread; sequential ones on any database.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from backoffice import formtokens
from backoffice.models import FormToken
from backoffice.timeutil import now
from fraud.models import Report
from payments.models import Refund
from shop.models import OrderEvent, OrderStatus
from staff.permissions import SUPPORT
from tests import factories
from tests.staff import scenario
from tests.staff.submit import form_token, open_form
from tests.support import run_concurrently

pytestmark = pytest.mark.django_db

ALREADY_DONE = "この操作は既に実行されました。"


def _delivered(price: int = 12_800):
    order = factories.place(factories.ListingFactory(price=price))
    scenario.seed_003_tracking(order)
    return order


def _refund_url(order) -> str:
    return f"/staff/orders/{order.number}/actions/refund/"


def _cancel_url(order) -> str:
    return f"/staff/orders/{order.number}/actions/cancel/"


def _cancellations(order) -> int:
    return OrderEvent.objects.filter(order=order, to_status=OrderStatus.CANCELLED).count()


def test_the_token_lives_one_working_shift():
    assert formtokens.FORM_TOKEN_TTL == timedelta(hours=8)


# --- sequential double submits (any database) ----------------------------------------------------

def test_partial_refund_submitted_twice_refunds_once_and_the_replay_says_so(agent):
    order = _delivered()
    token = open_form(agent, _refund_url(order))
    first = agent.post(_refund_url(order), {"amount": "3000", "form_token": token})
    assert first.status_code == 302
    replay = agent.post(_refund_url(order), {"amount": "3000", "form_token": token})
    assert replay.status_code == 409
    body = replay.content.decode()
    assert ALREADY_DONE in body and 'data-code="form_already_used"' in body
    assert f'href="/staff/orders/{order.number}/"' in body  # a link to the order
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [3_000]


def test_the_confirm_page_open_in_two_tabs_refunds_once(agent):
    order = _delivered()
    tab_1, tab_2 = open_form(agent, _refund_url(order)), open_form(agent, _refund_url(order))
    assert tab_1 == tab_2  # one unspent token per form and user, shared by every tab
    assert agent.post(_refund_url(order), {"amount": "3000", "form_token": tab_1}).status_code == 302
    assert agent.post(_refund_url(order), {"amount": "2000", "form_token": tab_2}).status_code == 409
    assert Refund.objects.filter(order=order).count() == 1


def test_a_second_refund_is_a_new_confirm_page_and_runs(agent):
    order = _delivered()
    assert agent.post(_refund_url(order), {"amount": "3000", "form_token": open_form(agent, _refund_url(order))}
                      ).status_code == 302
    assert agent.post(_refund_url(order), {"amount": "2000", "form_token": open_form(agent, _refund_url(order))}
                      ).status_code == 302
    assert sorted(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [2_000, 3_000]


def test_cancel_submitted_twice_cancels_once(agent, card_order):
    token = open_form(agent, _cancel_url(card_order))
    assert agent.post(_cancel_url(card_order), {"form_token": token}).status_code == 302
    replay = agent.post(_cancel_url(card_order), {"form_token": token})
    assert replay.status_code == 409 and ALREADY_DONE in replay.content.decode()
    assert _cancellations(card_order) == 1
    assert Refund.objects.filter(order=card_order).count() == 1


def test_a_refused_action_leaves_the_token_usable(agent):
    order = _delivered(price=1_000)
    token = open_form(agent, _refund_url(order))
    refused = agent.post(_refund_url(order), {"amount": "1001", "form_token": token})
    assert refused.status_code == 409 and "返金額が返金可能額を超えています。" in refused.content.decode()
    assert form_token(refused.content.decode()) == token  # the page shown again carries the same token
    invalid = agent.post(_refund_url(order), {"amount": "abc", "form_token": token})
    assert invalid.status_code == 400
    assert agent.post(_refund_url(order), {"amount": "500", "form_token": token}).status_code == 302
    assert agent.post(_refund_url(order), {"amount": "500", "form_token": token}).status_code == 409
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [500]


@pytest.mark.parametrize("token", ["", "made-up"])
def test_a_missing_or_unknown_token_runs_nothing_with_a_coded_message(agent, token):
    order = _delivered()
    response = agent.post(_refund_url(order), {"amount": "3000", "form_token": token})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-code="form_token_invalid"' in body and "確認画面からのものではない" in body
    assert not Refund.objects.filter(order=order).exists()


def test_another_users_token_or_another_forms_token_is_refused(agent, make_staff):
    order, other_order = _delivered(), _delivered()
    token = open_form(agent, _refund_url(order))
    colleague = Client()
    colleague.force_login(make_staff(SUPPORT, "support-2"))
    assert colleague.post(_refund_url(order), {"amount": "1", "form_token": token}).status_code == 400
    assert agent.post(_refund_url(other_order), {"amount": "1", "form_token": token}).status_code == 400
    assert agent.post(_cancel_url(order), {"form_token": token}).status_code == 400
    assert not Refund.objects.exists()
    assert agent.post(_refund_url(order), {"amount": "1", "form_token": token}).status_code == 302


def test_a_token_works_for_8_hours_and_is_refused_as_expired_after(agent):
    order = _delivered()
    start = now()
    with time_machine.travel(start, tick=False):
        token = open_form(agent, _refund_url(order))
    with time_machine.travel(start + timedelta(hours=8, seconds=1), tick=False):
        expired = agent.post(_refund_url(order), {"amount": "1000", "form_token": token})
        assert expired.status_code == 410
        assert 'data-code="form_expired"' in expired.content.decode()
        assert not Refund.objects.exists()
        fresh = open_form(agent, _refund_url(order))  # reopening the page gives a new token
        assert fresh != token
    with time_machine.travel(start + timedelta(hours=7, minutes=59), tick=False):
        assert agent.post(_refund_url(order), {"amount": "1000", "form_token": fresh}).status_code == 302


def test_each_checklist_item_has_its_own_token(analyst):
    order = factories.place(factories.ListingFactory(price=4_000))
    assert analyst.post(f"/staff/orders/{order.number}/actions/secure-account/",
                        {"form_token": open_form(analyst, f"/staff/orders/{order.number}/actions/secure-account/")}
                        ).status_code == 302
    report = Report.objects.get(orders=order)
    checks_before = report.checks.count()
    page = analyst.get(f"/staff/reports/{report.pk}/").content.decode()
    url = f"/staff/reports/{report.pk}/actions/check/"
    logins, refunds = form_token(page, code="reviewed_logins"), form_token(page, code="confirmed_refunds")
    assert logins != refunds
    assert analyst.post(url, {"code": "reviewed_logins", "form_token": logins}).status_code == 302
    assert analyst.post(url, {"code": "reviewed_logins", "form_token": logins}).status_code == 409
    assert analyst.post(url, {"code": "confirmed_refunds", "form_token": logins}).status_code == 400
    assert analyst.post(url, {"code": "confirmed_refunds", "form_token": refunds}).status_code == 302
    assert report.checks.count() == checks_before + 2


def test_other_console_forms_submitted_twice_run_once(agent, analyst, card_order):
    callback = scenario.callback(card_order.customer, "配達について")
    url = f"/staff/callbacks/{callback.pk}/actions/complete/"
    token = open_form(agent, url)
    assert agent.post(url, {"outcome": "reached", "form_token": token}).status_code == 302
    assert ALREADY_DONE in agent.post(url, {"outcome": "reached", "form_token": token}).content.decode()

    url = f"/staff/customers/{card_order.customer_id}/actions/suspend/"
    token = open_form(analyst, url)
    assert analyst.post(url, {"note": "調査中", "form_token": token}).status_code == 302
    assert ALREADY_DONE in analyst.post(url, {"note": "調査中", "form_token": token}).content.decode()
    assert list(card_order.customer.account_actions.values_list("kind", flat=True)) == ["suspend"]


_POST_FORM = re.compile(r"<form[^>]*method=\"post\".*?</form>", re.S)
# Not actions: logging in and out, the language switch. The transfer-file download is idempotent
# (the same bytes every time; payments.bank.download marks the batch downloaded once).
_NOT_ACTIONS = ("staff:login", "staff:logout", "set_language", "staff:transfer_download")


def test_every_post_form_of_the_console_carries_a_one_time_token():
    templates = sorted(Path(settings.BASE_DIR, "templates", "staff").glob("*.html"))
    forms = [(t.name, f) for t in templates for f in _POST_FORM.findall(t.read_text())]
    assert len(forms) >= 4
    missing = [(name, form[:80]) for name, form in forms
               if 'name="form_token"' not in form and not any(url in form for url in _NOT_ACTIONS)
               and name != "login.html"]
    assert missing == []


def test_purge_job_deletes_tokens_older_than_a_shift(agent):
    old, recent = _delivered(), _delivered()
    with time_machine.travel(now() - timedelta(hours=9)):
        open_form(agent, _refund_url(old))
    open_form(agent, _refund_url(recent))
    call_command("run_periodic_jobs", only=["purge_form_tokens"])
    assert list(FormToken.objects.values_list("scope", flat=True)) == [_refund_url(recent)]


# --- concurrent submits (PostgreSQL: one connection per thread) --------------------------------------

def _tabs(client: Client, n: int) -> list[Client]:
    """``n`` browser tabs of one logged-in agent (the same session cookie)."""
    tabs = []
    for _ in range(n):
        tab = Client()
        tab.cookies = client.cookies
        tabs.append(tab)
    return tabs


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_the_partial_refund_form_create_one_refund(make_staff):
    order = _delivered()
    agent = Client()
    agent.force_login(make_staff(SUPPORT))
    token = open_form(agent, _refund_url(order))
    statuses = run_concurrently(4, lambda i: _tabs(agent, 4)[i].post(
        _refund_url(order), {"amount": "3000", "form_token": token}).status_code)
    assert sorted(statuses) == [302, 409, 409, 409]
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [3_000]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_the_cancel_form_cancel_once(make_staff):
    order = factories.place(factories.ListingFactory(price=12_800), method="card")
    agent = Client()
    agent.force_login(make_staff(SUPPORT))
    token = open_form(agent, _cancel_url(order))
    responses = run_concurrently(4, lambda i: _tabs(agent, 4)[i].post(_cancel_url(order), {"form_token": token}))
    assert sorted(r.status_code for r in responses) == [302, 409, 409, 409]
    assert all(ALREADY_DONE in r.content.decode() for r in responses if r.status_code == 409)
    assert _cancellations(order) == 1
    assert Refund.objects.filter(order=order).count() == 1
