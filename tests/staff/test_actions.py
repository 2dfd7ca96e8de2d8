"""Every console action: the confirm step, the allow-list by group, the service's errors shown."""

from __future__ import annotations

import pytest
from django.test import Client

from fraud.models import Report, ReportStatus
from fraud.services import playbook
from payments.models import GiftCardAccount, Refund, TransferBatch
from payments.services import refunds
from pickup.models import Pickup
from pickup.services import terminal
from shop.models import CancellationReason, Message, OrderStatus
from staff.permissions import FRAUD, SUPPORT
from tests import factories
from tests.staff import scenario
from tests.staff.submit import open_form, submit

pytestmark = pytest.mark.django_db


def _as(make_staff, group: str) -> Client:
    client = Client()
    client.force_login(make_staff(group, f"{group}-2"))
    return client


# --- pickup ----------------------------------------------------------------------------------

def test_five_wrong_auth_numbers_lock_the_pickup_and_the_agent_unlocks_it(agent):
    order = scenario.pickup_order(failed_attempts=5)
    page = agent.get(f"/staff/orders/{order.number}/").content.decode()
    assert 'data-testid="pickup-locked"' in page
    assert page.count("認証番号誤り") >= 4  # every attempt is shown

    confirm = agent.get(f"/staff/orders/{order.number}/actions/unlock-pickup/").content.decode()
    assert "失敗回数を0に戻します" in confirm
    response = submit(agent, f"/staff/orders/{order.number}/actions/unlock-pickup/")
    assert response.status_code == 302
    pickup = Pickup.objects.get(order=order)
    assert (pickup.locked, pickup.consecutive_failures) == (False, 0)
    assert "受取端末のロックを解除しました。" in agent.get(response["Location"]).content.decode()


def test_unlocking_a_pickup_another_agent_unlocked_meanwhile_shows_the_service_message(agent):
    order = scenario.pickup_order(failed_attempts=5)
    url = f"/staff/orders/{order.number}/actions/unlock-pickup/"
    token = open_form(agent, url)
    terminal.unlock(Pickup.objects.get(order=order), actor="staff:other-agent")
    response = agent.post(url, {"form_token": token})
    assert response.status_code == 409
    assert "この荷物はロックされていません。" in response.content.decode()


def test_agent_resends_the_pickup_notice(agent):
    order = scenario.pickup_order()
    response = submit(agent, f"/staff/orders/{order.number}/actions/resend-pickup-notice/")
    assert response.status_code == 302
    assert Pickup.objects.get(order=order).noticed_at is not None
    assert Message.objects.filter(order=order, kind=Message.Kind.PICKUP_READY).exists()


def test_pickup_section_shows_store_keys_and_deadline(agent):
    order = scenario.pickup_order()
    pickup = Pickup.objects.get(order=order)
    body = agent.get(f"/staff/orders/{order.number}/").content.decode()
    assert pickup.store.name in body and pickup.inquiry_number in body and pickup.auth_number in body
    assert "受取期限" in body


# --- konbini ---------------------------------------------------------------------------------

def test_konbini_order_shows_chain_code_and_deadline(agent):
    order = scenario.konbini_order_with_code(chain="familymart")
    code = order.payment.konbini_codes.get()
    body = agent.get(f"/staff/orders/{order.number}/").content.decode()
    assert "ファミリーマート" in body and code.number in body and "8888" in body
    assert "23:59:59" in body  # the deadline, in JST


def test_a_konbini_payment_number_finds_the_order(agent):
    order = scenario.konbini_order_with_code(chain="seven_eleven")
    number = order.payment.konbini_codes.get().number
    response = agent.get("/staff/search/", {"q": number})
    assert response["Location"] == f"/staff/orders/{order.number}/"


# --- partial refund --------------------------------------------------------------------------

def test_agent_refunds_part_of_a_delivered_order(agent, django_capture_on_commit_callbacks):
    order = factories.place(factories.ListingFactory(price=12_800))
    scenario.seed_003_tracking(order)
    confirm = agent.get(f"/staff/orders/{order.number}/actions/refund/").content.decode()
    assert "返金可能額：12,800円" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(agent, f"/staff/orders/{order.number}/actions/refund/", {"amount": "3000", "reference": "RMA-1"})
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.reason, refund.status) == (3_000, "customer_return", Refund.Status.SUCCEEDED)


def test_refund_above_what_is_left_is_refused_with_the_service_message(agent):
    order = factories.place(factories.ListingFactory(price=1_000))
    scenario.seed_003_tracking(order)
    response = submit(agent, f"/staff/orders/{order.number}/actions/refund/", {"amount": "1001"})
    assert response.status_code == 409
    assert "返金額が返金可能額を超えています。" in response.content.decode()
    assert not Refund.objects.filter(order=order).exists()


def test_refund_form_rejects_a_non_number_without_calling_the_service(agent):
    order = factories.place(factories.ListingFactory(price=1_000))
    scenario.seed_003_tracking(order)
    response = submit(agent, f"/staff/orders/{order.number}/actions/refund/", {"amount": "abc"})
    assert response.status_code == 400
    assert not Refund.objects.filter(order=order).exists()


def test_fraud_analyst_may_not_refund(make_staff):
    order = factories.place(factories.ListingFactory())
    scenario.seed_003_tracking(order)
    assert submit(_as(make_staff, FRAUD), f"/staff/orders/{order.number}/actions/refund/", {"amount": "1"}).status_code \
        == 403


# --- review queue ----------------------------------------------------------------------------

def test_held_order_is_in_the_review_queue_with_its_rules_in_words(analyst):
    order = scenario.held_order()
    assert order.status == OrderStatus.ON_HOLD
    assert order.number in analyst.get("/staff/review/").content.decode()
    body = analyst.get(f"/staff/orders/{order.number}/").content.decode()
    assert "24時間以内に新しい端末からのログインがある" in body and "（+30）" in body
    assert 'data-action="approve_hold"' in body and 'data-action="reject_hold"' in body


def test_analyst_approves_a_held_order(analyst):
    order = scenario.held_order()
    confirm = analyst.get(f"/staff/orders/{order.number}/actions/approve/").content.decode()
    assert "「保留（審査中）」から「配達完了」" in confirm  # a paid digital order is delivered at once
    submit(analyst, f"/staff/orders/{order.number}/actions/approve/", {"note": "本人確認済み"})
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_analyst_rejects_a_held_order(analyst):
    order = scenario.held_order()
    submit(analyst, f"/staff/orders/{order.number}/actions/reject/", {"note": ""})
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == (OrderStatus.CANCELLED, CancellationReason.RISK_REJECTED)


def test_second_decision_on_the_same_order_is_refused(analyst):
    order = scenario.held_order()
    reject_url = f"/staff/orders/{order.number}/actions/reject/"
    reject_token = open_form(analyst, reject_url)  # the reject page, open in another tab
    submit(analyst, f"/staff/orders/{order.number}/actions/approve/")
    response = analyst.post(reject_url, {"form_token": reject_token})
    assert response.status_code == 409
    assert "この注文は既に審査済みです" in response.content.decode()


def test_support_agent_may_not_decide_a_hold(agent):
    order = scenario.held_order()
    assert submit(agent, f"/staff/orders/{order.number}/actions/approve/").status_code == 403


# --- secure account and reports ----------------------------------------------------------------

def test_secure_account_from_the_order_page_files_a_report_and_runs_the_playbook(agent):
    order = factories.place(factories.ListingFactory(price=4_000))
    scenario.logins_for(order.customer)
    body = agent.get(f"/staff/orders/{order.number}/actions/secure-account/").content.decode()
    assert "パスワードの再設定" in body
    response = submit(agent, f"/staff/orders/{order.number}/actions/secure-account/", {"note": "お客様から電話"})
    assert response.status_code == 302
    order.refresh_from_db()
    report = Report.objects.get(orders=order)
    assert order.cancellation_reason == CancellationReason.UNAUTHORIZED_ORDER
    assert report.secured_at is not None
    assert GiftCardAccount.objects.get(customer=order.customer).frozen
    page = agent.get(response["Location"]).content.decode()
    assert f"#{report.pk}" in page and 'data-testid="login-events"' in page
    assert 'data-action="secure_account"' not in page  # done once


def test_secure_account_from_the_order_page_runs_on_the_storefronts_open_report(agent):
    order = factories.place(factories.ListingFactory(price=4_000))
    filed = playbook.report_unauthorized_order(customer=order.customer, orders=[order], secure_account=False,
                                               description="身に覚えがない", actor="storefront:test")
    body = agent.get(f"/staff/orders/{order.number}/actions/secure-account/").content.decode()
    assert f"不正報告 #{filed.pk} に対してアカウント保護を実行します。" in body
    url = f"/staff/orders/{order.number}/actions/secure-account/"
    token = open_form(agent, url)
    response = agent.post(url, {"note": "お客様から電話", "form_token": token})
    assert response.status_code == 302
    report = Report.objects.get(orders=order)  # still exactly one
    assert report.pk == filed.pk and report.secured_at is not None
    assert Message.objects.filter(customer=order.customer, kind="password_reset_required").count() == 1
    response = agent.post(url, {"note": "もう一度", "form_token": token})  # the same page, submitted again
    assert response.status_code == 409
    assert "この操作は既に実行されました。" in response.content.decode()
    assert Report.objects.filter(orders=order).count() == 1
    assert Message.objects.filter(customer=order.customer, kind="password_reset_required").count() == 1


def test_report_checklist_must_be_complete_before_resolving(analyst):
    order = factories.place(factories.ListingFactory(price=4_000))
    submit(analyst, f"/staff/orders/{order.number}/actions/secure-account/")
    report = Report.objects.get(orders=order)
    submit(analyst, f"/staff/reports/{report.pk}/actions/start/")
    response = submit(analyst, f"/staff/reports/{report.pk}/actions/resolve/", {"note": ""})
    assert response.status_code == 409
    assert "チェックリストが完了していません" in response.content.decode()

    for code in ("reviewed_logins", "confirmed_refunds", "contacted_customer"):
        submit(analyst, f"/staff/reports/{report.pk}/actions/check/", {"code": code}, page=f"/staff/reports/{report.pk}/")
    submit(analyst, f"/staff/reports/{report.pk}/actions/resolve/", {"note": "対応完了"})
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED
    assert not GiftCardAccount.objects.get(customer=order.customer).frozen
    assert "解決済み" in analyst.get(f"/staff/reports/{report.pk}/").content.decode()


def test_an_unknown_checklist_item_is_refused_by_the_service(analyst):
    order = factories.place(factories.ListingFactory())
    submit(analyst, f"/staff/orders/{order.number}/actions/secure-account/")
    report = Report.objects.get(orders=order)
    url = f"/staff/reports/{report.pk}/actions/check/"
    response = submit(analyst, url, {"code": "made_up"}, page=f"{url}?code=made_up")
    assert response.status_code == 400
    assert "この報告のチェックリストにない項目です。" in response.content.decode()


# --- failed refunds --------------------------------------------------------------------------

def test_finance_retries_a_failed_refund_to_the_gift_card_balance(finance, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    assert f'data-refund="{refund.pk}"' in finance.get("/staff/refunds/failed/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(finance, f"/staff/refunds/{refund.pk}/actions/retry/", {"to_gift_card": "on"})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.method) == (Refund.Status.SUCCEEDED, Refund.Method.GIFT_CARD)


def test_support_agent_sees_failed_refunds_but_may_not_retry(agent, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    page = agent.get("/staff/refunds/failed/").content.decode()
    assert f'data-refund="{refund.pk}"' in page and "再実行" not in page
    assert submit(agent, f"/staff/refunds/{refund.pk}/actions/retry/").status_code == 403


# --- bank-transfer batches -----------------------------------------------------------------------

def test_finance_downloads_the_file_then_marks_the_batch_transferred(finance, django_capture_on_commit_callbacks):
    batch = scenario.transfer_batch()
    response = finance.post(f"/staff/transfers/{batch.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    assert response.content == bytes(batch.content)
    with django_capture_on_commit_callbacks(execute=True):
        submit(finance, f"/staff/transfers/{batch.pk}/actions/mark-transferred/")
    batch.refresh_from_db()
    assert batch.status == TransferBatch.Status.TRANSFERRED
    assert Refund.objects.get(transfer_item__batch=batch).status == Refund.Status.SUCCEEDED


def test_marking_transferred_before_download_is_not_offered_and_a_forged_post_writes_nothing(
        finance, django_capture_on_commit_callbacks):
    batch = scenario.transfer_batch()
    url = f"/staff/transfers/{batch.pk}/actions/mark-transferred/"
    assert "振込完了にする前に、振込ファイルをダウンロードして銀行に送ってください。" in finance.get(url).content.decode()
    response = finance.post(url)  # no confirm page showed a form: no token
    assert response.status_code == 400
    assert 'data-code="form_token_invalid"' in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == TransferBatch.Status.CREATED


def test_the_file_is_only_downloaded_by_post(finance, django_capture_on_commit_callbacks):
    batch = scenario.transfer_batch()
    assert finance.get(f"/staff/transfers/{batch.pk}/download/").status_code == 405
    batch.refresh_from_db()
    assert batch.status == TransferBatch.Status.CREATED


@pytest.mark.parametrize("group", [SUPPORT, FRAUD])
def test_only_finance_may_open_or_download_transfer_batches(make_staff, group, django_capture_on_commit_callbacks):
    batch = scenario.transfer_batch()
    client = _as(make_staff, group)
    assert client.get("/staff/transfers/").status_code == 403
    assert client.post(f"/staff/transfers/{batch.pk}/download/").status_code == 403
    batch.refresh_from_db()
    assert batch.status == TransferBatch.Status.CREATED


# --- customer page: suspension -----------------------------------------------------------------

def test_analyst_suspends_a_customer_with_a_reason(analyst, card_order):
    customer = card_order.customer
    response = submit(analyst, f"/staff/customers/{customer.pk}/actions/suspend/", {"note": "受取拒否の繰り返し"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.suspended and customer.suspended_reason == "受取拒否の繰り返し"
    assert 'data-testid="suspended"' in analyst.get(response["Location"]).content.decode()


def test_suspension_needs_a_reason(analyst, card_order):
    response = submit(analyst, f"/staff/customers/{card_order.customer_id}/actions/suspend/", {"note": ""})
    assert response.status_code == 400
    card_order.customer.refresh_from_db()
    assert not card_order.customer.suspended


def test_support_agent_may_not_suspend(agent, card_order):
    assert submit(agent, f"/staff/customers/{card_order.customer_id}/actions/suspend/", {"note": "x"}).status_code == 403


def test_customer_page_shows_gift_card_usage_and_no_shows(agent, django_capture_on_commit_callbacks):
    refund = scenario.failed_card_refund(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        refunds.retry(refund_id=refund.pk, actor="staff:test", to_gift_card=True)
    body = agent.get(f"/staff/customers/{refund.order.customer_id}/").content.decode()
    assert 'data-testid="gift-balance">2,500円' in body
    assert "返金" in body and refund.order.number in body
    assert 'data-testid="no-shows">0' in body


def test_review_queue_offers_approve_and_reject_to_analysts_only(analyst, agent):
    order = scenario.held_order()
    assert f"/staff/orders/{order.number}/actions/approve/" in analyst.get("/staff/review/").content.decode()
    assert f"/staff/orders/{order.number}/actions/approve/" not in agent.get("/staff/review/").content.decode()
