"""Finance and support in the admin: the failed-refunds queue with its retry action, transfer
batches with download and mark-transferred, the gift-card ledger per customer."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import GiftCardEntry, Refund, TransferBatch
from payments.services import bank, giftcards
from shop.models import CancellationReason
from shop.services import orders
from tests.factories import CustomerFactory, ListingFactory, place
from tests.staff import scenario

pytestmark = pytest.mark.django_db


def failed_card_refund(captured) -> Refund:
    order = place(ListingFactory(), card_token="tok_refund_fail")
    with captured(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    return Refund.objects.get(order=order)


def staff(group: str) -> User:
    from backoffice.groups import ensure_groups

    ensure_groups()
    user = User.objects.create_user(username=group, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_the_failed_queue_lists_failed_refunds_and_retries_them_to_the_gift_card(
        client, django_capture_on_commit_callbacks):
    refund = failed_card_refund(django_capture_on_commit_callbacks)
    client.force_login(staff("finance"))

    page = client.get("/admin/payments/failedrefund/")
    assert page.status_code == 200
    assert f"返金#{refund.pk}" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/payments/failedrefund/",
                               {"action": "reissue_to_gift_card", "_selected_action": [refund.pk]})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.method) == ("succeeded", "gift_card")
    assert refund.order.events.filter(kind="refund_retried", actor="staff:finance").exists()
    assert f"返金#{refund.pk}" not in client.get("/admin/payments/failedrefund/").content.decode()


def test_support_agents_see_refunds_but_cannot_retry_them(client, django_capture_on_commit_callbacks):
    refund = failed_card_refund(django_capture_on_commit_callbacks)
    client.force_login(staff("support_agent"))

    assert client.get("/admin/payments/refund/?status__exact=failed").status_code == 200
    client.post("/admin/payments/refund/", {"action": "retry_refunds", "_selected_action": [refund.pk]})
    assert Refund.objects.get(pk=refund.pk).status == "failed"


def test_finance_downloads_the_zengin_file_then_marks_the_batch_transferred(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    order = place(ListingFactory(price=2000), method="cod")
    orders.mark_paid(order, amount=order.total, actor="carrier:yamato")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.SUPPORT, actor="staff:a")
    batch = bank.create_batch()
    client.force_login(staff("finance"))

    response = client.post("/admin/payments/transferbatch/", {"action": "download_file",
                                                               "_selected_action": [batch.pk]})
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
    assert response.content == bytes(batch.content)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/payments/transferbatch/", {"action": "mark_transferred", "_selected_action": [batch.pk]})
    assert TransferBatch.objects.get().status == "transferred"
    assert Refund.objects.get(order=order).status == "succeeded"


def _reads_of_the_file(queries) -> int:
    return sum('"payments_transferbatch"."content"' in q["sql"] for q in queries)


def test_the_batch_file_is_read_only_by_the_download_and_only_once(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    order = place(ListingFactory(price=2000), method="cod")
    orders.mark_paid(order, amount=order.total, actor="carrier:yamato")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.SUPPORT, actor="staff:a")
    batch = bank.create_batch()
    client.force_login(staff("finance"))

    with CaptureQueriesContext(connection) as listing:
        assert client.get("/admin/payments/transferbatch/").status_code == 200
        assert client.get(f"/admin/payments/transferbatch/{batch.pk}/change/").status_code == 200
    assert _reads_of_the_file(listing.captured_queries) == 0

    with CaptureQueriesContext(connection) as download:
        response = client.post("/admin/payments/transferbatch/", {"action": "download_file",
                                                                   "_selected_action": [batch.pk]})
    assert response.content == bytes(batch.content)
    assert _reads_of_the_file(download.captured_queries) == 1

    with CaptureQueriesContext(connection) as done, django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/payments/transferbatch/", {"action": "mark_transferred", "_selected_action": [batch.pk]})
    assert TransferBatch.objects.get().status == "transferred"
    assert _reads_of_the_file(done.captured_queries) == 0


def test_the_gift_card_ledger_of_a_customer_shows_every_entry(admin_client):
    customer = CustomerFactory(external_id="cust-1")
    giftcards.credit(customer=customer, amount=3000, kind=GiftCardEntry.Kind.PURCHASE, reference="GC-XYZ")
    account = giftcards.account_for(customer)

    page = admin_client.get(f"/admin/payments/giftcardaccount/{account.pk}/change/").content.decode()
    assert "GC-XYZ" in page
    assert admin_client.get("/admin/payments/giftcardaccount/?q=cust-1").status_code == 200
    assert admin_client.get("/admin/payments/bankaccount/").status_code == 200
    assert admin_client.get("/admin/payments/return/").status_code == 200
    assert admin_client.get("/admin/payments/payment/").status_code == 200


def test_finance_can_batch_waiting_transfers_now_and_support_cannot(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(external_id="cust-1")
    bank.set_bank_account(customer=customer, bank_code="0001", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ タロウ", use_for_refunds=True)
    order = place(ListingFactory(price=2000), method="cod")
    orders.mark_paid(order, amount=order.total, actor="carrier:yamato")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(order, reason=CancellationReason.SUPPORT, actor="staff:a")

    client.force_login(staff("support_agent"))
    assert "今すぐ振込データを作成" not in client.get("/admin/payments/transferbatch/").content.decode()
    assert client.post("/admin/payments/transferbatch/create-now/").status_code == 403
    assert not TransferBatch.objects.exists()

    client.force_login(staff("finance"))
    page = client.get("/admin/payments/transferbatch/").content.decode()
    assert "今すぐ振込データを作成" in page
    token = re.search(r'name="form_token" value="([^"]*)"', page).group(1)
    assert client.post("/admin/payments/transferbatch/create-now/", {"form_token": token}).status_code == 302
    assert TransferBatch.objects.get().items.get().refund.order_id == order.pk
    replay = client.post("/admin/payments/transferbatch/create-now/", {"form_token": token}, follow=True)
    assert "この操作は既に実行されました。" in replay.content.decode()
    assert TransferBatch.objects.count() == 1


def test_the_admin_and_the_staff_console_show_the_failed_queue_in_the_same_order(
        client, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from backoffice.timeutil import now
    from staff import selectors

    first, second = (failed_card_refund(django_capture_on_commit_callbacks) for _ in range(2))
    # The refund created second failed first: the longest-failed leads both queues.
    Refund.objects.filter(pk=second.pk).update(updated_at=now() - timedelta(hours=1))
    client.force_login(staff("finance"))
    admin_order = [r.pk for r in client.get("/admin/payments/failedrefund/").context["cl"].result_list]
    assert admin_order == [second.pk, first.pk]
    assert [r.pk for r in selectors.failed_refunds()] == admin_order


def test_the_payment_list_shows_refunded_in_progress_and_failed_apart(client, django_capture_on_commit_callbacks):
    order = scenario.refunds_in_every_state(django_capture_on_commit_callbacks)
    client.force_login(staff("finance"))
    page = client.get("/admin/payments/payment/", {"q": order.number}).content.decode()
    cells = {name: page.split(f'class="field-{name}"', 1)[1].split("<", 1)[0].lstrip(">")
             for name in ("refund_succeeded", "refund_in_progress", "refund_failed", "refunded_amount")}
    assert cells == {"refund_succeeded": "3000", "refund_in_progress": "1000", "refund_failed": "2000",
                     "refunded_amount": "6000"}
    assert "返金済み（円）" in page and "返金引当額（円）" in page
