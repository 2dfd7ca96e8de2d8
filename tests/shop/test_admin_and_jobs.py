"""Django admin (search, actions), staff groups and the message sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from backoffice.timeutil import now
from shop.jobs import send_pending_messages
from shop.models import Message, Order
from tests.factories import ListingFactory, place
from tests.staff.submit import form_token

pytestmark = pytest.mark.django_db
_ACCEPT = EmailBackend.send_messages  # the test mail server, before a test makes it refuse


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


def test_customer_admin_phone_search_stays_within_the_lists_filters(admin_client_ja):
    from shop.models import Customer

    Customer.objects.create(external_id="active", email="a@example.jp", name="有効", phone="+819012345678")
    Customer.objects.create(external_id="stopped", email="s@example.jp", name="停止中", phone="+819012345678",
                            suspended=True)
    r = admin_client_ja.get("/admin/shop/customer/", {"q": "０９０－１２３４－５６７８", "suspended__exact": "1"})
    assert [c.external_id for c in r.context["cl"].result_list] == ["stopped"]


def test_number_search_forms_follow_the_stored_phone_rule():
    from shop.admin import number_search_terms

    assert "+819012345678" in number_search_terms("０９０－１２３４－５６７８")
    assert "+8100123456789" not in number_search_terms("000123456789")  # one leading 0 dropped, not all
    assert "180-0000000-0000001" in number_search_terms("18000000000000001")


def test_admin_bulk_cancel_goes_to_the_confirm_page_which_asks_the_reason_and_shows_the_plan(admin_client_ja):
    paid = place(ListingFactory(price=1000))
    shipped = place(ListingFactory(price=2000), external_id="other")
    Order.objects.filter(pk=shipped.pk).update(status="shipped")
    r = admin_client_ja.post("/admin/shop/order/", {"action": "cancel_by_support",
                                                    "_selected_action": [paid.pk, shipped.pk]})
    assert r.status_code == 302 and r["Location"].startswith("/staff/orders/cancel/")
    paid.refresh_from_db()
    assert paid.status == "processing"  # nothing is cancelled from the list itself
    page = admin_client_ja.get(r["Location"]).content.decode()
    assert paid.number in page and shipped.number in page
    assert "1,000円 をクレジットカードへ返金します" in page and "発送済みのご注文はキャンセルできません" in page
    ids = f"{paid.pk},{shipped.pk}"
    token = form_token(page)
    body = {"ids": ids, "reason": "seller_cancelled", "note": "欠品", "form_token": token}
    r = admin_client_ja.post("/staff/orders/cancel/", body)
    assert r.status_code == 302
    again = admin_client_ja.post("/staff/orders/cancel/", body)  # a double submit: done once, said so
    assert again.status_code == 409 and 'data-code="form_already_used"' in again.content.decode()
    paid.refresh_from_db()
    shipped.refresh_from_db()
    assert (paid.status, paid.cancellation_reason) == ("cancelled", "seller_cancelled")
    assert shipped.status == "shipped"
    event = paid.events.get(to_status="cancelled")
    assert (event.actor, event.actor_kind, event.note) == ("staff:boss", "staff", "欠品")
    assert event.actor_user.username == "boss"
    assert paid.refunds.count() == 1


def test_the_bulk_cancel_page_refuses_a_reason_people_do_not_choose(admin_client_ja):
    order = place(ListingFactory(price=1000))
    r = admin_client_ja.post("/staff/orders/cancel/", {"ids": str(order.pk), "reason": "payment_expired"})
    assert r.status_code == 400
    assert Order.objects.get(pk=order.pk).status == "processing"


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


def _refuse(monkeypatch, refused: set[str]):
    """The mail server refuses these addresses (and accepts the others)."""
    def send_messages(self, email_messages):
        for m in email_messages:
            if set(m.to) & refused:
                raise OSError(f"550 recipient refused: {m.to[0]}")
        return _ACCEPT(self, email_messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)


def test_a_failed_send_is_retried_by_the_next_run_after_its_backoff(monkeypatch, settings):
    order = place(ListingFactory())
    address = order.customer.email
    _refuse(monkeypatch, {address})
    assert send_pending_messages() == {"sent": 0}  # recorded, not raised: the run goes on
    message = Message.objects.get(order=order)
    assert message.emailed_at is None and mail.outbox == []
    assert (message.send_attempts, message.last_error) == (1, f"OSError: 550 recipient refused: {address}")
    _refuse(monkeypatch, set())
    assert send_pending_messages() == {"sent": 0}  # waits for its retry time
    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
        assert send_pending_messages() == {"sent": 1} and len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.emailed_at is not None, message.next_attempt_at, message.last_error) == (True, None, "")


def test_a_refused_recipient_does_not_hold_up_the_messages_behind_it(monkeypatch):
    refused = place(ListingFactory(), external_id="refused")
    with time_machine.travel(now() + timedelta(seconds=1)):
        later = [place(ListingFactory(), external_id=f"later-{i}") for i in range(3)]
    _refuse(monkeypatch, {refused.customer.email})
    assert send_pending_messages() == {"sent": 3}
    assert sorted(m.subject for m in mail.outbox) == sorted(Message.objects.get(order=o).subject for o in later)


def test_a_message_is_given_up_after_the_last_attempt(monkeypatch, settings):
    settings.MESSAGE_MAX_SEND_ATTEMPTS = 3
    order = place(ListingFactory())
    _refuse(monkeypatch, {order.customer.email})
    at = now()
    for _ in range(5):
        send_pending_messages()
        at += timedelta(hours=2)  # past any backoff
        with time_machine.travel(at):
            send_pending_messages()
    message = Message.objects.get(order=order)
    assert message.send_attempts == 3 and message.emailed_at is None and message.last_error


def test_bulk_messages_wait_behind_the_ones_people_wait_for():
    from shop.models import CancellationReason
    from shop.services import messages

    old = place(ListingFactory(), external_id="bulk-cancelled")
    with time_machine.travel(now() + timedelta(seconds=1)):
        messages.notify_cancelled_in_bulk(
            [messages.CancelledOrder(old.pk, old.number, old.customer_id, old.customer.name)],
            reason=CancellationReason.PAYMENT_EXPIRED, at=now())
    with time_machine.travel(now() + timedelta(seconds=2)):
        urgent = place(ListingFactory(), external_id="urgent")
    Message.objects.filter(order=old, kind="order_confirmed").update(emailed_at=now())
    assert send_pending_messages(limit=1) == {"sent": 1}
    assert [m.subject for m in mail.outbox] == [Message.objects.get(order=urgent).subject]


def test_a_message_being_sent_is_not_claimed_twice():
    from shop.services import messages

    order = place(ListingFactory())
    message = Message.objects.get(order=order)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now() + messages.SEND_CLAIM, send_attempts=1)
    assert messages.deliver(message.pk) is False  # another relay holds the claim
    with time_machine.travel(now() + messages.SEND_CLAIM + timedelta(seconds=1)):
        assert messages.deliver(message.pk) is True  # that relay died: claimed again
    assert len(mail.outbox) == 1


def test_the_outbox_admin_lists_what_waits_for_the_broker_with_its_error(admin_client_ja):
    from backoffice.models import OutboxTask

    OutboxTask.objects.create(task="payments.process_refund", args=[7], created_at=now(), available_at=now(),
                              attempts=2, last_error="OperationalError: Connection refused")
    page = admin_client_ja.get("/admin/backoffice/outboxtask/").content.decode()
    assert "payments.process_refund" in page and "Connection refused" in page
    assert admin_client_ja.get("/admin/backoffice/outboxtask/add/").status_code == 403  # written by services only
