"""Staff see konbini payments in the admin: requests, codes and receipts, searchable by number."""

from __future__ import annotations

import pytest
import time_machine

from payments.konbini.models import PaymentCode
from tests.payments.konbini_support import PLACED, issue, konbini_order

pytestmark = pytest.mark.django_db
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def code():
    with time_machine.travel(PLACED, tick=False):
        return issue(konbini_order(), "lawson")


def test_payment_requests_are_searchable_by_payment_number_typed_in_full_width(admin_client, code):
    typed = f"{code.number[:5]}-{code.number[5:]}".translate(FULL_WIDTH)
    r = admin_client.get("/admin/konbini/konbinipaymentrequest/", {"q": typed})
    assert r.status_code == 200
    assert code.payment.order.number in r.content.decode() and code.number in r.content.decode()
    assert "次回のお支払い方法ページのメンテナンス" in r.content.decode()


def test_codes_are_searchable_by_payment_number_and_order_number(admin_client, code):
    other = issue(konbini_order(external_id="other"), "familymart")
    page = admin_client.get("/admin/konbini/paymentcode/", {"q": code.number}).content.decode()
    assert code.number in page and other.number not in page
    page = admin_client.get("/admin/konbini/paymentcode/", {"q": code.payment.order.number}).content.decode()
    assert code.number in page


def test_the_order_page_shows_chain_code_and_deadline(admin_client, code):
    page = admin_client.get(f"/admin/shop/order/{code.payment.order_id}/change/").content.decode()
    assert "ローソン" in page and code.number in page and "2026-11-29 23:59:59" in page


def test_staff_can_void_a_code_from_the_admin(admin_client, code):
    r = admin_client.post("/admin/konbini/paymentcode/", {"action": "void_codes", "_selected_action": [code.pk]})
    assert r.status_code == 302
    assert PaymentCode.objects.get(pk=code.pk).status == "void"
    assert code.payment.order.events.filter(kind="konbini_code_voided").exists()


def test_payment_request_detail_and_receipts_pages_load(admin_client, code):
    assert admin_client.get(f"/admin/konbini/konbinipaymentrequest/{code.payment_id}/change/").status_code == 200
    assert admin_client.get("/admin/konbini/paymentreceipt/").status_code == 200


def _staff_user(*, group: str, extra_perms: tuple[str, ...] = ()):
    from django.contrib.auth.models import Group, Permission, User

    from backoffice.groups import ensure_groups

    ensure_groups()
    user = User.objects.create_user(username=group, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    for codename in extra_perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="konbini", codename=codename))
    return user


def test_konbini_records_are_read_only_and_actions_need_the_change_permission(client, code):
    client.force_login(_staff_user(group="support_agent"))
    assert client.get("/admin/konbini/paymentcode/").status_code == 200
    assert client.get(f"/admin/konbini/konbinipaymentrequest/{code.payment_id}/change/").status_code == 200
    assert client.get("/admin/konbini/paymentcode/add/").status_code == 403
    assert client.get(f"/admin/konbini/paymentcode/{code.pk}/delete/").status_code == 403
    assert "void_codes" not in client.get("/admin/konbini/paymentcode/").content.decode()
    client.post("/admin/konbini/paymentcode/", {"action": "void_codes", "_selected_action": [code.pk]})
    assert PaymentCode.objects.get(pk=code.pk).status == "live"


def test_a_staff_member_with_the_change_permission_keeps_the_konbini_actions(client, code):
    client.force_login(_staff_user(group="finance", extra_perms=("change_paymentcode", "change_konbinipaymentrequest")))
    assert "expire_now" in client.get("/admin/konbini/konbinipaymentrequest/").content.decode()
    assert client.get("/admin/konbini/paymentcode/add/").status_code == 403
    r = client.post("/admin/konbini/paymentcode/", {"action": "void_codes", "_selected_action": [code.pk]})
    assert r.status_code == 302
    assert PaymentCode.objects.get(pk=code.pk).status == "void"
