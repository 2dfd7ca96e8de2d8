"""The fraud admin: pages render, and its buttons and actions go through the services."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.urls import reverse

from fraud import rules
from fraud.models import AddressReputation, CustomerAccount, HeldOrder, Report, RiskRule, SessionRevocation
from fraud.services import accounts, reports
from tests.factories import ListingFactory, place
from tests.fraud.helpers import login, only_weights, refuse_cod
from tests.staff.submit import form_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(client):
    user = User.objects.create_user("analyst1", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="fraud_analyst"))
    client.force_login(user)
    return client


def test_every_fraud_admin_list_renders(analyst):
    place(ListingFactory())
    for model in ("report", "heldorder", "riskrule", "addressreputation", "loginevent", "accountaction",
                  "customeraccount"):
        r = analyst.get(reverse(f"admin:fraud_{model}_changelist"))
        assert r.status_code == 200, model


def test_report_page_shows_checklist_timeline_and_logins_before_the_order(analyst):
    login("cust-1", "android-x")
    order = place(ListingFactory(digital=True))
    report = reports.open_report(type="unauthorized_order", orders=[order])
    r = analyst.get(reverse("admin:fraud_report_change", args=[report.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert "注文前後のログイン履歴（端末・IP）を確認した" in body  # a checklist item
    assert "android-x" in body and "新しい端末" in body
    assert order.number in body


def press(client, report, action: str, **data):
    """Press a button of the report's change page as the browser does: the page's form, with the
    button's one-time token."""
    page = client.get(reverse("admin:fraud_report_change", args=[report.pk])).content.decode()
    field = f"form_token:{action}:{data.get('value', '') if action == 'check' else ''}"
    found = re.search(rf'name="{re.escape(field)}" value="([^"]*)"', page)
    return client.post(reverse("admin:fraud_report_do", args=[report.pk, action]),
                       {**data, field: found.group(1) if found else ""})


def test_report_buttons_call_the_services(analyst):
    order = place(ListingFactory())
    report = reports.open_report(type="unauthorized_order", orders=[order])
    do = lambda action, **data: press(analyst, report, action, **data)  # noqa: E731
    assert do("start").status_code == 302
    do("secure")
    order.refresh_from_db()
    assert order.status == "cancelled"
    do("resolve", _note="完了")
    report.refresh_from_db()
    assert report.status == "in_progress"  # checklist incomplete: refused with a message
    for code, _ in rules.CHECKLISTS["unauthorized_order"]:
        do("check", value=code)
    do("resolve", _note="パスワード再設定済み")
    report.refresh_from_db()
    assert report.status == "resolved" and report.assignee.username == "analyst1"
    assert report.events.filter(actor="staff:analyst1", kind="playbook_completed").exists()


def test_review_queue_lists_held_orders_and_approves_them(analyst):
    only_weights(new_address=70)
    held = place(ListingFactory())
    r = analyst.get(reverse("admin:fraud_heldorder_changelist"))
    assert held.number in r.content.decode()
    assert rules.DEFAULT_RISK_RULES["new_address"][0] in r.content.decode()
    analyst.post(reverse("admin:fraud_heldorder_changelist"),
                 {"action": "approve_orders", "_selected_action": [held.pk]})
    held.refresh_from_db()
    assert held.status == "processing"
    assert not HeldOrder.objects.filter(status="on_hold").exists()


def test_staff_edit_a_rule_weight_within_0_to_100(analyst):
    rule = RiskRule.objects.get(code="cod")
    url = reverse("admin:fraud_riskrule_change", args=[rule.pk])
    assert analyst.post(url, {"weight": 101, "enabled": "on"}).status_code == 200  # form error
    analyst.post(url, {"weight": 35, "enabled": "on"})
    rule.refresh_from_db()
    assert rule.weight == 35


def test_lifting_a_block_asks_for_a_reason(analyst):
    refuse_cod(place(ListingFactory(), method="cod", external_id="a"))
    refuse_cod(place(ListingFactory(), method="cod", external_id="b"))
    rep = AddressReputation.objects.get()
    url = reverse("admin:fraud_addressreputation_changelist")
    r = analyst.post(url, {"action": "lift_blocks", "_selected_action": [rep.pk]})
    assert r.status_code == 200 and "理由" in r.content.decode()
    rep.refresh_from_db()
    assert rep.cod_blocked
    analyst.post(url, {"action": "lift_blocks", "_selected_action": [rep.pk], "apply": "1", "reason": "確認済み",
                       "form_token": form_token(r.content.decode())})
    rep.refresh_from_db()
    assert not rep.cod_blocked and rep.block_lift_reason == "確認済み"


def test_staff_file_a_report_in_the_admin_through_the_service(analyst):
    order = place(ListingFactory())
    assert analyst.get(reverse("admin:fraud_report_add")).status_code == 200
    r = analyst.post(reverse("admin:fraud_report_add"), {
        "type": "other", "customer": order.customer.pk, "orders": str(order.pk), "description": "電話での申告"})
    assert r.status_code == 302, r.content.decode()[:2000]
    report = Report.objects.get()
    assert report.filed_by == "staff:analyst1" and list(report.orders.all()) == [order]
    assert report.events.filter(kind="filed").exists()
    assert analyst.post(reverse("admin:fraud_report_delete", args=[report.pk]), {"post": "yes"}).status_code == 403


def test_staff_suspend_and_reinstate_with_a_reason_in_the_admin(analyst):
    customer = place(ListingFactory()).customer
    url = reverse("admin:fraud_customeraccount_changelist")
    r = analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk]})
    assert r.status_code == 200 and "理由" in r.content.decode()
    analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk], "apply": "1",
                       "reason": "不正注文の調査中", "form_token": form_token(r.content.decode())})
    customer.refresh_from_db()
    assert customer.suspended and customer.suspended_reason == "不正注文の調査中"
    r = analyst.post(url, {"action": "reinstate_customers", "_selected_action": [customer.pk]})
    analyst.post(url, {"action": "reinstate_customers", "_selected_action": [customer.pk], "apply": "1",
                       "reason": "本人確認済み", "form_token": form_token(r.content.decode())})
    customer.refresh_from_db()
    assert not customer.suspended
    assert list(customer.account_actions.order_by("at", "id").values_list("kind", flat=True)) == ["suspend",
                                                                                                  "reinstate"]


def test_order_admin_page_shows_rules_in_words_and_logins_before_the_order(analyst):
    login("cust-1", "android-x")
    order = place(ListingFactory())
    body = analyst.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert rules.DEFAULT_RISK_RULES["new_device_24h"][0] in body
    assert "android-x" in body and "203.0.113.7" in body


def test_login_times_are_shown_in_japan_time(analyst):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    login("cust-1", "dev-jst", at=datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("UTC")))
    with time_machine.travel(datetime(2026, 11, 21, 1, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        order = place(ListingFactory())
    body = analyst.get(reverse("admin:shop_order_change", args=[order.pk])).content.decode()
    assert "2026-11-21 08:30" in body  # 23:30 UTC = 08:30 JST the next day


def test_the_reason_page_submitted_twice_suspends_once(analyst):
    customer = place(ListingFactory()).customer
    url = reverse("admin:fraud_customeraccount_changelist")
    page = analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk]}).content.decode()
    apply = {"action": "suspend_customers", "_selected_action": [customer.pk], "apply": "1", "reason": "調査中",
             "form_token": form_token(page)}
    analyst.post(url, apply)
    replay = analyst.post(url, apply, follow=True).content.decode()
    assert "この操作は既に実行されました。" in replay
    assert list(customer.account_actions.values_list("kind", flat=True)) == ["suspend"]


def test_the_reason_page_refuses_a_submit_without_its_token(analyst):
    customer = place(ListingFactory()).customer
    url = reverse("admin:fraud_customeraccount_changelist")
    response = analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk], "apply": "1",
                                  "reason": "調査中"}, follow=True)
    assert "form_token_invalid" in response.content.decode()
    customer.refresh_from_db()
    assert not customer.suspended


def test_the_reason_pages_token_stays_usable_when_nothing_was_done(analyst):
    customer = place(ListingFactory()).customer
    url = reverse("admin:fraud_customeraccount_changelist")
    page = analyst.post(url, {"action": "reinstate_customers", "_selected_action": [customer.pk]}).content.decode()
    apply = {"action": "reinstate_customers", "_selected_action": [customer.pk], "apply": "1", "reason": "確認済み",
             "form_token": form_token(page)}
    analyst.post(url, apply)  # not suspended: the service refuses, nothing is done
    suspend_page = analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk]})
    analyst.post(url, {"action": "suspend_customers", "_selected_action": [customer.pk], "apply": "1",
                       "reason": "調査中", "form_token": form_token(suspend_page.content.decode())})
    analyst.post(url, apply)  # the reinstate page's token was not spent
    assert list(customer.account_actions.order_by("at", "id").values_list("kind", flat=True)) == ["suspend",
                                                                                                  "reinstate"]


def test_a_report_button_pressed_twice_runs_once(analyst):
    report = reports.open_report(type="other", orders=[place(ListingFactory())])
    page = analyst.get(reverse("admin:fraud_report_change", args=[report.pk])).content.decode()
    token = re.search(r'name="form_token:note:" value="([^"]*)"', page).group(1)
    url = reverse("admin:fraud_report_do", args=[report.pk, "note"])
    analyst.post(url, {"_note": "電話あり", "form_token:note:": token})
    replay = analyst.post(url, {"_note": "電話あり", "form_token:note:": token}, follow=True).content.decode()
    assert "この操作は既に実行されました。" in replay
    assert report.events.filter(note="電話あり").count() == 1
    refused = analyst.post(url, {"_note": "トークンなし"}, follow=True).content.decode()
    assert "form_token_invalid" in refused and not report.events.filter(note="トークンなし").exists()


def test_a_customers_revoked_sessions_are_shown_in_its_admin_page_and_cannot_be_changed_there(client):
    """The revocations are an audit record (written by ``accounts.revoke_sessions``): the
    customer's admin page lists them, read-only even for a superuser, like every inline history."""
    customer = place(ListingFactory()).customer
    accounts.suspend(customer, reason="調査中", actor="staff:fujii")
    root = User.objects.create_superuser("root", "root@example.jp", "x-correct-horse")
    client.force_login(root)
    html = client.get(reverse("admin:fraud_customeraccount_change", args=[customer.pk])).content.decode()
    assert "staff:fujii" in html and "利用停止" in html
    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin.site._registry[CustomerAccount]
    [inline] = [i for i in model_admin.get_inline_instances(request, customer) if i.model is SessionRevocation]
    assert not inline.has_change_permission(request, customer) and not inline.has_add_permission(request, customer)
    assert not inline.can_delete
