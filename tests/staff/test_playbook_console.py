"""The secure-account playbook as support sees it afterwards (issue 17): the customer page lists
the revoked sessions (which logins, when, by whom, which step) and the password-reset link
(requested, expires, used); a checklist tick is undone through a confirm page with a reason."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry

from backoffice.timeutil import local, now
from fraud.models import Report, ReportCheck, SessionRevocation
from fraud.services import accounts, logins
from shop.models import Message
from staff.models import Activity
from tests import factories
from tests.staff import scenario
from tests.staff.submit import open_form, submit

pytestmark = pytest.mark.django_db


def _secured(client):
    """An order whose customer logged in from two devices, then staff ran the playbook."""
    order = factories.place(factories.ListingFactory(price=4_000))
    scenario.logins_for(order.customer)
    response = submit(client, f"/staff/orders/{order.number}/actions/secure-account/", {"note": "お客様から電話"})
    assert response.status_code == 302
    return order, Report.objects.get(orders=order)


def _row(html: str, attribute: str, pk: int) -> str:
    found = re.search(rf'<tr {attribute}="{pk}".*?</tr>', html, re.S)
    assert found, f"no row {attribute}={pk}"
    return found.group(0)


def _reset_token(customer) -> str:
    return Message.objects.get(customer=customer, kind="password_reset_required").body.split("token=")[1].split()[0]


# --- item 1: revoked sessions and the pending reset ------------------------------------------------

def test_the_customer_page_shows_the_playbooks_revoked_sessions_with_the_logins_they_ended(agent):
    order, report = _secured(agent)
    revocation = SessionRevocation.objects.get(customer=order.customer)
    assert (revocation.cause, revocation.report_id, revocation.epoch) == ("playbook", report.pk, 1)
    assert revocation.actor == "staff:support_agent-user"

    html = agent.get(f"/staff/customers/{order.customer_id}/").content.decode()
    row = _row(html, "data-revocation", revocation.pk)
    assert "アカウント保護（ログインの無効化）" in row and f"不正報告 #{report.pk}" in row
    assert "staff:support_agent-user" in row and local(revocation.revoked_at).strftime("%Y/%m/%d") in row
    assert "203.0.113.10" in row and "198.51.100.77" in row  # both devices' sessions ended


def test_a_later_revocation_lists_only_the_logins_since_the_one_before(agent, make_staff):
    order, report = _secured(agent)
    with time_machine.travel(now() + timedelta(hours=1)):
        logins.record_login(customer=order.customer, occurred_at=now() - timedelta(minutes=5), ip="192.0.2.5",
                            user_agent="Mozilla/5.0 (iPhone)", device_id="iphone-home")  # back after the reset
        accounts.suspend(order.customer, reason="調査中", actor="staff:fujii")
    later = SessionRevocation.objects.get(customer=order.customer, cause="suspension")
    html = agent.get(f"/staff/customers/{order.customer_id}/").content.decode()
    row = _row(html, "data-revocation", later.pk)
    assert "利用停止" in row and "staff:fujii" in row
    assert "192.0.2.5" in row and "203.0.113.10" not in row and "198.51.100.77" not in row


def test_the_reset_link_shows_requested_expires_and_its_state_pending_used_expired(agent):
    order, report = _secured(agent)
    reset = order.customer.password_reset_tokens.get()
    page = f"/staff/customers/{order.customer_id}/"
    row = _row(agent.get(page).content.decode(), "data-reset", reset.pk)
    assert 'data-state="pending"' in row and "再設定待ち" in row and f"不正報告 #{report.pk}" in row
    assert local(reset.expires_at).strftime("%Y/%m/%d %H:%M") in row  # the link's expiry (24 h)

    with time_machine.travel(reset.expires_at + timedelta(minutes=1)):
        row = _row(agent.get(page).content.decode(), "data-reset", reset.pk)
        assert 'data-state="expired"' in row and "期限切れ" in row

    accounts.redeem_password_reset(order.customer, _reset_token(order.customer))
    row = _row(agent.get(page).content.decode(), "data-reset", reset.pk)
    assert 'data-state="used"' in row and "使用済み" in row


def test_suspension_and_closure_record_their_revocations_too(agent):
    customer = factories.CustomerFactory()
    accounts.suspend(customer, reason="調査中", actor="staff:fujii")
    accounts.reinstate(customer, reason="確認済み", actor="staff:fujii")
    assert list(SessionRevocation.objects.filter(customer=customer).values_list("cause", "epoch", "actor")) == [
        ("suspension", 1, "staff:fujii")]
    assert "ログインの無効化はありません。" in agent.get(
        f"/staff/customers/{factories.CustomerFactory(external_id='nobody').pk}/").content.decode()


# --- item 2: undoing a checklist tick --------------------------------------------------------------

def test_a_ticked_item_is_undone_from_its_confirm_page_with_a_reason_on_the_timeline_and_the_log(analyst):
    order, report = _secured(analyst)
    url = f"/staff/reports/{report.pk}/actions/check/"
    submit(analyst, url, {"code": "reviewed_logins"}, page=f"/staff/reports/{report.pk}/")
    assert 'data-action="report_uncheck" data-code="reviewed_logins"' in analyst.get(
        f"/staff/reports/{report.pk}/").content.decode()

    undo = f"/staff/reports/{report.pk}/actions/uncheck/"
    confirm = analyst.get(f"{undo}?code=reviewed_logins").content.decode()
    assert "「注文前後のログイン履歴（端末・IP）を確認した」の完了（staff:fraud_analyst-user・" in confirm
    response = submit(analyst, undo, {"code": "reviewed_logins", "note": "確認したのは別の注文だった"},
                      page=f"{undo}?code=reviewed_logins")
    assert response.status_code == 302
    assert not ReportCheck.objects.filter(report=report, code="reviewed_logins").exists()
    undone = report.events.get(kind="check_undone")
    assert undone.actor == "staff:fraud_analyst-user" and "確認したのは別の注文だった" in undone.note
    assert "staff:fraud_analyst-user が" in undone.note  # who had ticked it
    page = analyst.get(f"/staff/reports/{report.pk}/").content.decode()
    assert "チェック項目の取り消し" in page  # on the timeline, in words
    activity = Activity.objects.get(action="report_uncheck")
    assert activity.target_id == report.pk and activity.username == "fraud_analyst-user"
    assert LogEntry.objects.filter(change_message__startswith="[staff] report_uncheck").count() == 1

    # Ticked again: a fresh form on the report page.
    submit(analyst, url, {"code": "reviewed_logins"}, page=f"/staff/reports/{report.pk}/")
    assert ReportCheck.objects.filter(report=report, code="reviewed_logins").exists()


def test_undoing_twice_from_the_same_page_runs_once(analyst):
    order, report = _secured(analyst)
    undo = f"/staff/reports/{report.pk}/actions/uncheck/"
    token = open_form(analyst, f"{undo}?code=secured_account")
    data = {"code": "secured_account", "note": "誤って完了", "form_token": token}
    assert analyst.post(undo, data).status_code == 302
    again = analyst.post(undo, data)
    assert again.status_code == 409 and "この操作は既に実行されました。" in again.content.decode()
    assert report.events.filter(kind="check_undone").count() == 1


def test_undoing_an_item_not_ticked_or_without_a_reason_is_refused_and_writes_nothing(analyst):
    order, report = _secured(analyst)
    undo = f"/staff/reports/{report.pk}/actions/uncheck/"
    response = submit(analyst, undo, {"code": "contacted_customer", "note": "誤って"}, page=f"{undo}?code=contacted_customer")
    assert response.status_code == 409
    assert "この項目はまだ完了していないため、取り消せません。" in response.content.decode()
    response = submit(analyst, undo, {"code": "secured_account", "note": ""}, page=f"{undo}?code=secured_account")
    assert response.status_code == 400
    assert ReportCheck.objects.filter(report=report, code="secured_account").exists()
    assert not report.events.filter(kind="check_undone").exists()
    assert not Activity.objects.filter(action="report_uncheck").exists()


def test_a_finance_user_may_not_undo_a_tick(finance, analyst):
    order, report = _secured(analyst)
    response = submit(finance, f"/staff/reports/{report.pk}/actions/uncheck/",
                      {"code": "secured_account", "note": "x"})
    assert response.status_code == 403
    assert ReportCheck.objects.filter(report=report, code="secured_account").exists()


def test_a_revocation_with_a_cause_the_page_has_no_words_for_is_refused_before_any_session_ends():
    customer = factories.CustomerFactory()
    with pytest.raises(ValueError):
        accounts.revoke_sessions(customer, actor="staff:fujii", cause="suspend")  # not a Cause
    customer.refresh_from_db()
    assert customer.session_epoch == 0 and not SessionRevocation.objects.exists()
