"""The secure-account playbook (SPEC §5, seed 002): every step, each on the report's timeline,
and running it twice does nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from backoffice.errors import Conflict, Gone, NotFound
from backoffice.timeutil import now
from fraud import rules
from fraud.models import PasswordResetToken, ReportType
from fraud.services import accounts, playbook, reports
from payments.models import GiftCardEntry, Payment, Refund
from payments.services import giftcards
from shop.models import Message
from tests.factories import ListingFactory, place

pytestmark = pytest.mark.django_db


def _kinds(report) -> list[str]:
    return list(report.events.order_by("at", "id").values_list("kind", flat=True))


@pytest.fixture
def hijacked(django_capture_on_commit_callbacks):
    """seed 002: a streamed video and a parcel the customer never ordered, and a gift-card balance."""
    with django_capture_on_commit_callbacks(execute=True):
        video = place(ListingFactory(digital=True, price=400))
        parcel = place(ListingFactory(price=2980, stock=10))
        customer = video.customer
        giftcards.credit(customer=customer, amount=5000, kind=GiftCardEntry.Kind.PURCHASE, reference="gc-1")
    report = reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, customer=customer, orders=[video, parcel],
                                 actor="storefront:test")
    return report, video, parcel


def test_playbook_cancels_and_refunds_every_reported_order_digital_included(hijacked, django_capture_on_commit_callbacks):
    report, video, parcel = hijacked
    assert video.status == "delivered"
    with django_capture_on_commit_callbacks(execute=True):
        result = playbook.secure_account(report, actor="staff:sato")
    for order in (video, parcel):
        order.refresh_from_db()
        assert order.status == "cancelled" and order.cancellation_reason == "unauthorized_order"
        refund = Refund.objects.get(order=order)
        assert refund.amount == order.total and refund.status == Refund.Status.SUCCEEDED
    assert sorted(result.cancelled) == sorted([video.number, parcel.number]) and result.refunded == 400 + 2980
    assert parcel.lines.get().listing.stock == 10  # stock back


def test_playbook_revokes_sessions_by_bumping_the_epoch(hijacked):
    report, video, _ = hijacked
    before = video.customer.session_epoch
    playbook.secure_account(report, actor="staff:sato")
    video.customer.refresh_from_db()
    assert video.customer.session_epoch == before + 1


def test_playbook_requires_a_password_reset_with_a_hashed_single_use_token(hijacked):
    report, video, _ = hijacked
    customer = video.customer
    playbook.secure_account(report, actor="staff:sato")
    token = PasswordResetToken.objects.get(customer=customer)
    assert accounts.password_reset_required(customer)
    message = Message.objects.get(customer=customer, kind="password_reset_required")
    raw = message.body.split("token=")[1].split()[0]
    assert token.token_digest != raw and len(token.token_digest) == 64  # only the digest is stored
    assert token.expires_at == token.created_at + timedelta(hours=24)
    accounts.redeem_password_reset(customer, raw)
    assert not accounts.password_reset_required(customer)
    with pytest.raises(NotFound):  # single use
        accounts.redeem_password_reset(customer, raw)


@pytest.mark.parametrize("later, expired", [(timedelta(hours=23, minutes=59, seconds=59), False),
                                            (timedelta(hours=24), True)])
def test_a_reset_link_works_for_24_hours(hijacked, later, expired):
    report, video, _ = hijacked
    issued_at = now().replace(microsecond=0)
    with time_machine.travel(issued_at, tick=False):
        playbook.secure_account(report, actor="staff:sato")
    raw = Message.objects.get(kind="password_reset_required").body.split("token=")[1].split()[0]
    with time_machine.travel(issued_at + later, tick=False):
        if expired:
            with pytest.raises(Gone) as exc:
                accounts.redeem_password_reset(video.customer, raw)
            assert exc.value.code == "reset_token_expired"
        else:
            accounts.redeem_password_reset(video.customer, raw)
            assert not accounts.password_reset_required(video.customer)


def test_a_new_reset_link_revokes_the_previous_one(hijacked):
    _, video, _ = hijacked
    accounts.require_password_reset(video.customer)
    first = Message.objects.get(kind="password_reset_required").body.split("token=")[1].split()[0]
    accounts.require_password_reset(video.customer)
    with pytest.raises(NotFound):
        accounts.redeem_password_reset(video.customer, first)


def test_playbook_freezes_the_gift_card_until_the_report_is_resolved(hijacked):
    report, video, _ = hijacked
    playbook.secure_account(report, actor="staff:sato")
    account = giftcards.account_for(video.customer)
    assert account.frozen
    reports.start(report, actor="staff:sato")
    for code, _ in rules.CHECKLISTS["unauthorized_order"]:
        reports.complete_check(report, code=code, actor="staff:sato")
    reports.resolve(report, actor="staff:sato", note="パスワード再設定済み")
    account.refresh_from_db()
    assert not account.frozen
    assert "gift_card_unfrozen" in _kinds(report)


def test_a_second_open_report_keeps_the_balance_frozen(hijacked):
    report, video, _ = hijacked
    other = reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, customer=video.customer)
    playbook.secure_account(report, actor="staff:a")
    playbook.secure_account(other, actor="staff:a")
    reports.start(report, actor="staff:a")
    reports.dismiss(report, actor="staff:a", note="重複")
    assert giftcards.account_for(video.customer).frozen
    reports.start(other, actor="staff:a")
    reports.dismiss(other, actor="staff:a", note="本人確認済み")
    assert not giftcards.account_for(video.customer).frozen


def test_every_step_is_on_the_report_timeline_and_ticks_the_checklist(hijacked):
    report, _, _ = hijacked
    playbook.secure_account(report, actor="staff:sato")
    kinds = _kinds(report)
    for kind in ("playbook_started", "order_cancelled", "sessions_revoked", "password_reset_required",
                 "gift_card_frozen", "check_completed", "playbook_completed"):
        assert kind in kinds, kind
    assert kinds.count("order_cancelled") == 2
    assert report.checks.filter(code="secured_account").exists()


def test_running_it_twice_does_nothing_more(hijacked):
    report, video, _ = hijacked
    playbook.secure_account(report, actor="staff:a")
    video.customer.refresh_from_db()
    events, epoch = report.events.count(), video.customer.session_epoch
    result = playbook.secure_account(report, actor="staff:b")
    video.customer.refresh_from_db()
    assert result.already_done
    assert report.events.count() == events
    assert video.customer.session_epoch == epoch
    assert PasswordResetToken.objects.count() == 1 and Refund.objects.count() == 2
    assert Message.objects.filter(kind="password_reset_required").count() == 1


def test_shipped_orders_are_left_and_noted(hijacked):
    from backoffice.checkdigits import seven_dr_number
    from shop.services import shipments

    report, _, parcel = hijacked
    shipments.register(order=parcel, carrier="yamato", tracking_number=seven_dr_number("30000000001"), actor="t")
    result = playbook.secure_account(report, actor="staff:a")
    parcel.refresh_from_db()
    assert parcel.status == "shipped" and result.not_cancellable == [parcel.number]
    assert "order_not_cancellable" in _kinds(report)


def test_unpaid_konbini_order_is_cancelled_and_its_payment_voided():
    order = place(ListingFactory(), method="konbini")
    report = reports.open_report(type="unauthorized_order", orders=[order])
    playbook.secure_account(report, actor="staff:a")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Payment.objects.get(order=order).status == Payment.Status.VOIDED
    assert not Refund.objects.filter(order=order).exists()


def test_already_cancelled_order_is_noted_not_cancelled_again():
    order = place(ListingFactory())
    from shop.services import orders

    orders.cancel(order, reason="customer_request", actor="storefront")
    report = reports.open_report(type="unauthorized_order", orders=[order])
    playbook.secure_account(report, actor="staff:a")
    assert "order_already_cancelled" in _kinds(report)
    assert Refund.objects.filter(order=order).count() == 1


def test_only_unauthorized_order_reports_run_the_playbook():
    order = place(ListingFactory())
    report = reports.open_report(type="other", orders=[order])
    with pytest.raises(Conflict):
        playbook.secure_account(report, actor="staff:a")


def test_a_held_order_cancelled_by_the_playbook_decides_its_review_too():
    from fraud.models import Report
    from tests.fraud.helpers import only_weights

    only_weights(new_address=70)
    order = place(ListingFactory())
    assert order.status == "on_hold"
    report = reports.open_report(type="unauthorized_order", orders=[order])
    playbook.secure_account(report, actor="staff:a")
    review_report = Report.objects.get(type=ReportType.RISK_REVIEW)
    assert review_report.checks.filter(code="decided_order").exists()
    assert review_report.events.filter(kind="order_rejected").exists()
