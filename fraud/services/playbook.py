"""The "secure account" playbook for an unauthorized-order report (SPEC §5, seed 002).

One staff action (also triggered by the storefront's ``secure_account: true``): cancel every
reported order not yet shipped — digital ones included — with refunds through the refunds
service, revoke sessions, require a password reset, freeze the gift-card balance until the
report is closed (``reports`` unfreezes it when the report closes). One transaction; each step
on the report's timeline; idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from backoffice.errors import Conflict
from backoffice.timeutil import local, now
from fraud.models import OPEN_REPORT_STATUSES, Report, ReportType, SessionRevocation
from fraud.services import accounts, reports, review
from fraud.services.reports import record
from payments.models import GiftCardAccount, Refund
from payments.services import giftcards, refunds
from shop import states
from shop.models import CancellationReason, Customer, Order, OrderStatus
from shop.services import cancellation
from shop.services import orders as order_service

FREEZE_REASON_PREFIX = "不正報告 #"


@dataclass
class PlaybookResult:
    report: Report
    already_done: bool = False
    cancelled: list[str] = field(default_factory=list)
    not_cancellable: list[str] = field(default_factory=list)
    refunded: int = 0


def secure_account(report: Report, *, actor) -> PlaybookResult:
    """Run the playbook once. A second run finds ``secured_at`` set and does nothing more."""
    if report.type != ReportType.UNAUTHORIZED_ORDER:
        raise Conflict("アカウント保護は「身に覚えのない注文」の報告でのみ実行できます。", code="invalid_report_type")
    if report.customer_id is None:
        raise Conflict("報告に顧客が設定されていません。", code="customer_required")
    with transaction.atomic():
        # Lock order: orders → customer → report (see reports.py). The orders come first because
        # payment confirmations lock an order together with its customer.
        order_ids = list(report.orders.order_by("pk").values_list("pk", flat=True))
        list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk").values_list("pk"))
        customer = Customer.objects.select_for_update(no_key=True).get(pk=report.customer_id)
        report = Report.objects.select_for_update(no_key=True).get(pk=report.pk)
        result = PlaybookResult(report=report)
        if report.secured_at is not None:
            result.already_done = True
            return result
        if not report.is_open:
            raise Conflict("完了した報告ではアカウント保護を実行できません。", code="report_closed")
        record(report, "playbook_started", actor, "アカウント保護を開始")
        for order in report.orders.order_by("pk"):
            _cancel_order(report, order, actor, result)
        epoch = accounts.revoke_sessions(customer, actor=actor, cause=SessionRevocation.Cause.PLAYBOOK, report=report)
        record(report, "sessions_revoked", actor, f"全端末のログインを無効化（セッション世代 {epoch}）")
        reset = accounts.require_password_reset(customer, report=report)
        record(report, "password_reset_required", actor,
               f"パスワード再設定を要求（リンク有効期限 {local(reset.expires_at):%Y-%m-%d %H:%M}）")
        _freeze_gift_card(report, customer, actor)
        report.secured_at = now()
        report.save(update_fields=["secured_at", "gift_card_frozen"])
        reports.complete_check(report, code="secured_account", actor=actor)
        record(report, "playbook_completed", actor,
               f"アカウント保護を完了（キャンセル{len(result.cancelled)}件・返金{result.refunded:,}円）")
    return result


@dataclass(frozen=True)
class PlaybookPlan:
    """What ``secure_account`` will do, read without locking or writing (for the confirm page)."""

    cancel: list  # cancellation.CancelPlan of each order it will cancel
    already_cancelled: list[str]
    not_cancellable: list[tuple[str, str]]  # (order number, status label): shipped, left alone
    gift_card_balance: int


def plan(report: Report) -> PlaybookPlan:
    """Read-only: the orders the playbook cancels (with the cancellation core's own plan of each:
    refund amount and method), those it leaves and why, and the balance it freezes."""
    orders = list(report.orders.order_by("pk"))
    to_cancel = [o.pk for o in orders
                 if o.status != OrderStatus.CANCELLED and states.cancellable_by_support(o.status, digital=o.is_digital)]
    plans = cancellation.plan(to_cancel, reason=CancellationReason.UNAUTHORIZED_ORDER) if to_cancel else {}
    balance = (GiftCardAccount.objects.filter(customer_id=report.customer_id).values_list("balance", flat=True).first()
               or 0) if report.customer_id else 0
    return PlaybookPlan(
        cancel=[plans[pk] for pk in to_cancel if pk in plans],
        already_cancelled=[o.number for o in orders if o.status == OrderStatus.CANCELLED],
        not_cancellable=[(o.number, o.get_status_display()) for o in orders
                         if o.status != OrderStatus.CANCELLED and o.pk not in plans],
        gift_card_balance=balance,
    )


def _cancel_order(report: Report, order: Order, actor, result: PlaybookResult) -> None:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        record(report, "order_already_cancelled", actor, f"注文 {order.number} は既にキャンセル済み", order=order)
        return
    if not states.cancellable_by_support(order.status, digital=order.is_digital):
        result.not_cancellable.append(order.number)
        record(report, "order_not_cancellable", actor,
               f"注文 {order.number} は発送済み（{order.get_status_display()}）のためキャンセルできません", order=order)
        return
    was_held = order.status == OrderStatus.ON_HOLD
    order_service.cancel(order, reason=CancellationReason.UNAUTHORIZED_ORDER, actor=actor, report=report.pk)
    if was_held:  # it was waiting in the review queue: that review is decided too
        review.note_decision(order, "order_rejected", actor,
                             f"注文 {order.number} を不正報告 #{report.pk} のアカウント保護でキャンセル")
    refund = Refund.objects.filter(order=order, cause=refunds.CANCEL_CAUSE).first()
    result.cancelled.append(order.number)
    note = f"注文 {order.number} をキャンセル"
    if refund is not None:
        result.refunded += refund.amount
        note += f"・返金 {refund.amount:,}円（{refund.get_method_display()}）"
    record(report, "order_cancelled", actor, note, order=order)


def _freeze_gift_card(report: Report, customer: Customer, actor) -> None:
    account = giftcards.account_for(customer)
    if account.frozen:
        # Held by another report: this one shares the hold. Frozen for another reason: not ours.
        report.gift_card_frozen = account.frozen_reason.startswith(FREEZE_REASON_PREFIX)
        record(report, "gift_card_already_frozen", actor, f"ギフト券残高は既に凍結中（{account.frozen_reason}）")
        return
    giftcards.set_frozen(customer=customer, frozen=True, reason=f"{FREEZE_REASON_PREFIX}{report.pk}")
    record(report, "gift_card_frozen", actor, f"ギフト券残高（{account.balance:,}円）を報告の完了まで凍結")
    report.gift_card_frozen = True


def report_unauthorized_order(*, customer: Customer, orders: list[Order], secure_account: bool, description: str,
                              actor) -> Report:
    """The storefront's report of orders the customer never placed (seed 002), with the
    playbook run at once when it asks for ``secure_account`` — all or nothing."""
    with transaction.atomic():
        _lock_orders_then_customer(orders, customer)
        report = reports.open_report(type=ReportType.UNAUTHORIZED_ORDER, customer=customer, orders=orders,
                                     description=description, actor=actor)
        if secure_account:
            _run_playbook(report, actor=actor)
    return report


_run_playbook = secure_account  # the flag above shadows the function's name


def _lock_orders_then_customer(orders: list[Order], customer: Customer | None) -> None:
    """Take the locks in the documented order (orders → customer, see reports.py) before
    ``open_report`` locks the customer, so that filing never waits in the opposite order."""
    list(Order.objects.select_for_update().filter(pk__in=[o.pk for o in orders]).order_by("pk").values_list("pk"))
    if customer is not None:
        list(Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk).values_list("pk"))


def open_unauthorized_report(order: Order) -> Report | None:
    """The open "unauthorized order" report about this order, if any (the oldest)."""
    return (reports.for_order(order, type=ReportType.UNAUTHORIZED_ORDER)
            .filter(status__in=OPEN_REPORT_STATUSES).order_by("created_at", "id").first())


def secure_account_for_order(order: Order, *, actor, description: str = "") -> Report:
    """Staff's "secure account" from an order page: run the playbook on the order's open
    unauthorized-order report, or file one (with the playbook) when there is none.

    The order row and then the customer row are locked before the look-up, so two clicks (or a
    click and the storefront filing its report) are serialised: the second one finds the first's
    report, and the playbook runs once — one report, one reset link.
    """
    with transaction.atomic():
        _lock_orders_then_customer([order], order.customer)
        report = open_unauthorized_report(order)
        if report is not None:
            return secure_account(report, actor=actor).report
        return report_unauthorized_order(customer=order.customer, orders=[order], secure_account=True,
                                         description=description, actor=actor)
