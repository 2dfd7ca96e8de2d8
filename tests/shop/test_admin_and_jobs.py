"""Django admin (search, actions), staff groups and the message sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail

from backoffice.timeutil import now
from shop.jobs import send_pending_messages
from shop.models import Message
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_ja(client):
    user = User.objects.create_superuser("boss", "boss@example.jp", "pw-123456")
    client.force_login(user)
    return client


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.mark.parametrize("typed", ["hyphens", "digits", "full_width"])
def test_admin_finds_an_order_by_number_however_typed(admin_client_ja, typed):
    order = place(ListingFactory())
    other = place(ListingFactory(), external_id="someone-else")
    query = {"hyphens": order.number, "digits": order.number.replace("-", ""),
             "full_width": full_width(order.number.replace("-", ""))}[typed]
    r = admin_client_ja.get("/admin/shop/order/", {"q": query})
    assert r.status_code == 200
    content = r.content.decode()
    assert order.number in content and other.number not in content


def test_admin_finds_an_order_by_phone_typed_with_hyphens(admin_client_ja):
    order = place(ListingFactory())
    r = admin_client_ja.get("/admin/shop/order/", {"q": "090-1234-5678"})
    assert order.number in r.content.decode()


def test_admin_cancel_action_goes_through_the_service(admin_client_ja):
    order = place(ListingFactory(price=1000))
    r = admin_client_ja.post("/admin/shop/order/", {"action": "cancel_by_support", "_selected_action": [order.pk]})
    assert r.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == ("cancelled", "support")
    assert order.events.filter(to_status="cancelled", actor="staff:boss").exists()
    assert order.refunds.count() == 1


def test_order_admin_page_shows_the_timeline(admin_client_ja):
    order = place(ListingFactory())
    r = admin_client_ja.get(f"/admin/shop/order/{order.pk}/change/")
    assert r.status_code == 200 and "タイムライン" in r.content.decode()


def test_staff_groups_exist_with_their_permissions():
    support = Group.objects.get(name="support_agent")
    finance = Group.objects.get(name="finance")
    analyst = Group.objects.get(name="fraud_analyst")
    assert support.permissions.filter(codename="change_order").exists()
    assert not support.permissions.filter(codename="change_refund").exists()
    assert finance.permissions.filter(codename="change_refund").exists()
    assert not finance.permissions.filter(codename="change_order").exists()
    assert analyst.permissions.filter(codename="change_giftcardaccount").exists()


def test_the_relay_sends_each_committed_message_once_oldest_first():
    first = place(ListingFactory())
    with time_machine.travel(now() + timedelta(seconds=2)):
        second = place(ListingFactory(), external_id="later")
    assert mail.outbox == []  # placing only wrote the messages (the outbox)
    assert send_pending_messages(limit=1) == {"sent": 1}
    assert [m.subject for m in mail.outbox] == [Message.objects.get(order=first).subject]
    assert send_pending_messages() == {"sent": 1}
    assert send_pending_messages() == {"sent": 0}
    assert [m.subject for m in mail.outbox][1:] == [Message.objects.get(order=second).subject]
    assert not Message.objects.filter(emailed_at__isnull=True).exists()


def test_a_failed_send_is_retried_by_the_next_run(monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    order = place(ListingFactory())
    sent = EmailBackend.send_messages

    def smtp_down(self, messages):
        raise OSError("SMTP unreachable")

    monkeypatch.setattr(EmailBackend, "send_messages", smtp_down)
    with pytest.raises(OSError):
        send_pending_messages()
    assert Message.objects.get(order=order).emailed_at is None and mail.outbox == []
    monkeypatch.setattr(EmailBackend, "send_messages", sent)
    assert send_pending_messages() == {"sent": 1} and len(mail.outbox) == 1
