"""The order page and its actions (SPEC §1 timeline, seed 003 tracking table).

Every action calls the service the API (or the admin) calls; the view only says, before the
agent confirms, what that service will do.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.errors import DomainError
from fraud.models import ReportType
from fraud.services import playbook
from fraud.services import review as review_service
from payments.models import Refund
from payments.selectors import refund_totals
from payments.services import refunds as refund_service
from pickup.models import Pickup
from pickup.services import parcels, terminal
from receipts import pdf as receipt_pdf
from receipts import selectors as receipt_selectors
from receipts import services as receipt_service
from shop import states
from shop.models import CancellationReason, Order, OrderStatus, PaymentMethod
from shop.services import cancellation
from shop.services import orders as order_service
from staff import permissions, selectors
from staff.forms import CancelForm, NoteForm, ReceiptForm, RefundForm
from staff.views.base import Action, ActionView, StaffView, actor_of
from staff.views.work import notes_context

S = OrderStatus


def _canonical(number: str) -> str:
    try:
        return order_service.format_order_number(number)
    except DomainError:
        raise Http404 from None


def _refund_method_label(order: Order) -> str:
    return _(dict(Refund.Method.choices)[refund_service.method_for(order.payment)])


# --- cancel ----------------------------------------------------------------------------------

def plan_words(plan: cancellation.CancelPlan) -> list[str]:
    """What ``cancel_orders`` will do to one order, from the plan it executes (never a
    restatement of the rules)."""
    if not plan.allowed:
        return [str(plan.refusal().message)]
    out = [_("注文の状態を「%(from)s」から「キャンセル」にします（理由：%(reason)s）。")
           % {"from": _(S(plan.from_status).label), "reason": _(CancellationReason(plan.reason).label)}]
    if plan.restock:
        out.append(_("在庫を戻します。"))
    if plan.void_payment:
        out.append(_("未払いの支払い（%(method)s）を無効にします。") % {"method": _(PaymentMethod(plan.payment_method).label)})
    if plan.codes:
        out.append(_("コンビニのお支払い番号 %(numbers)s を無効にします。") % {"numbers": "、".join(plan.codes)})
    if plan.pickup_id:
        out.append(_("コンビニ受取の認証キーと申し込み券を無効にします。"))
    if plan.refund_amount > 0:
        out.append(_("支払い済みの %(amount)s円 を%(method)sへ返金します。") % {
            "amount": f"{plan.refund_amount:,}", "method": _(Refund.Method(plan.refund_method).label)})
    out.append(_("お客様にキャンセルのお知らせを送ります。"))
    return out


def _cancel_consequences(order: Order) -> list[str]:
    return plan_words(cancellation.plan_cancel(order, reason=CancellationReason.SUPPORT))


def _cancel(request, order: Order, data: dict) -> str:
    order_service.cancel(order, reason=CancellationReason.SUPPORT, actor=actor_of(request), note=data.get("note", ""))
    return _("注文 %(number)s をキャンセルしました。") % {"number": order.number}


# --- partial refund (a return of delivered goods) -----------------------------------------------

def _refund_available(order: Order) -> bool:
    payment = getattr(order, "payment", None)
    return order.status == S.DELIVERED and payment is not None and payment.refundable > 0


def _receipt_refusal(order: Order) -> str:
    """The receipt service's own refusal (``not_paid``, ``not_issuable``...), in the active language."""
    try:
        receipt_service.check_issuable(order)
    except DomainError as exc:
        return str(exc.message)
    return _("現在の状態ではこの操作を行えません。")


def _refund_refusal(order: Order) -> str:
    if order.status != S.DELIVERED:
        return _("返品の返金は配達完了の注文だけに行えます（現在の状態：%(status)s）。") % {
            "status": _(order.get_status_display())}
    return _("返金できる金額が残っていません（支払い済みの金額はすべて返金済みか返金中です）。")


def _refund_consequences(order: Order) -> list[str]:
    payment = order.payment
    return [
        _("返品として受け付け、入力した金額を返金します（返金可能額：%(left)s円）。") % {"left": f"{payment.refundable:,}"},
        _("返金方法：%(method)s。返金は非同期で処理され、完了するとお客様に返金完了のお知らせが届きます。")
        % {"method": _refund_method_label(order)},
    ]


def _refund(request, order: Order, data: dict) -> str:
    refund = refund_service.refund_return(order=order, amount=data["amount"], actor=actor_of(request),
                                          reference=data.get("reference") or "")
    return _("%(amount)s円 の返金を受け付けました（返金#%(id)s）。") % {"amount": f"{refund.amount:,}", "id": refund.pk}


# --- pickup ----------------------------------------------------------------------------------

def _pickup_ready(order: Order) -> bool:
    pickup = selectors.pickup_of(order)
    return pickup is not None and pickup.status == Pickup.Status.READY and order.status == S.READY_FOR_PICKUP


def _resend(request, order: Order, data: dict) -> str:
    parcels.resend_notice(selectors.pickup_of(order), actor=actor_of(request))
    return _("受取可能のお知らせを再送しました。")


def _unlock(request, order: Order, data: dict) -> str:
    terminal.unlock(selectors.pickup_of(order), actor=actor_of(request))
    return _("受取端末のロックを解除しました。")


# --- review (orders on hold) ---------------------------------------------------------------------

def _approve_consequences(order: Order) -> list[str]:
    target = _(S(review_service.status_after_approval(order)).label)
    out = [_("注文の状態を「保留（審査中）」から「%(to)s」にします。") % {"to": target}]
    if order.payment_method == "konbini":
        out.append(_("コンビニ払いの支払期限は今日から数え直し、お支払い番号のご案内を送ります。"))
    out.append(_("この注文のリスク審査の報告に記録し、チェック項目「注文を承認または却下した」を完了にします。"))
    return out


def _approve(request, order: Order, data: dict) -> str:
    review_service.approve(order, actor=actor_of(request), note=data.get("note", ""))
    return _("注文 %(number)s を承認しました。") % {"number": order.number}


def _reject_consequences(order: Order) -> list[str]:
    return plan_words(cancellation.plan_cancel(order, reason=CancellationReason.RISK_REJECTED))


def _reject(request, order: Order, data: dict) -> str:
    review_service.reject(order, actor=actor_of(request), note=data.get("note", ""))
    return _("注文 %(number)s を却下しました。") % {"number": order.number}


# --- secure account (unauthorized order, seed 002) -----------------------------------------------

def _reports(order: Order) -> list:
    """The order's reports, read once per request: the page, the action check and the confirm
    step share them."""
    if not hasattr(order, "_staff_reports"):
        order._staff_reports = selectors.reports_of_order(order)
    return order._staff_reports


def _open_unauthorized_report(order: Order):
    return next((r for r in _reports(order) if r.type == ReportType.UNAUTHORIZED_ORDER and r.is_open), None)


def _secure_available(order: Order) -> bool:
    report = _open_unauthorized_report(order)
    return report is None or report.secured_at is None


def _secure_consequences(order: Order) -> list[str]:
    report = _open_unauthorized_report(order)
    return [
        (_("不正報告 #%(id)s に対してアカウント保護を実行します。") % {"id": report.pk}) if report else
        _("この注文について「身に覚えのない注文」の不正報告を作成し、アカウント保護を実行します。"),
        _("報告対象の未発送の注文（デジタル商品を含む）をキャンセルし、支払い済みの金額を返金します。"),
        _("お客様のすべての端末のログインを無効にし、パスワードの再設定を求めます。"),
        _("報告が完了するまでギフト券残高を凍結します。"),
    ]


def _secure(request, order: Order, data: dict) -> str:
    report = playbook.secure_account_for_order(order, actor=actor_of(request), description=data.get("note", ""))
    return _("アカウント保護を実行しました（不正報告 #%(id)s）。") % {"id": report.pk}


# --- receipts (領収書 / 適格請求書, issue 18) -------------------------------------------------------

def _receipt_consequences(order: Order) -> list[str]:
    if not receipt_service.issuable(order):
        return []  # the page says the action is not available now
    plan = receipt_service.plan(order)
    if plan.reissue:
        first = _("領収書 %(number)s を「再発行」と明記して発行します（%(n)s回目の発行）。") % {
            "number": plan.receipt_number, "n": plan.sequence}
    else:
        first = _("この注文の領収書（適格請求書）を原本として初めて発行し、領収書番号を付けます。")
    return [
        first,
        _("宛名が空欄のときは「%(name)s」、但し書きが空欄のときは「お品代として」になります。")
        % {"name": plan.default_addressee},
        _("発行日時・宛名・発行者が記録され、この注文ページから発行した PDF を開けます。"),
    ]


def _issue_receipt(request, order: Order, data: dict) -> str:
    issued = receipt_service.issue(order=order, channel=receipt_service.Channel.STAFF, actor=actor_of(request),
                                   addressee=data.get("addressee"), purpose=data.get("purpose"))
    words = _("再発行") if issued.reissue else _("原本")
    return _("領収書 %(number)s を発行しました（%(kind)s）。") % {"number": issued.receipt.number, "kind": words}


ORDER_ACTIONS: dict[str, Action] = {
    "cancel": Action(name="cancel", label=gettext_lazy("注文をキャンセル"), run=_cancel, consequences=_cancel_consequences,
                     form_class=CancelForm, danger=True,
                     available=lambda o: states.cancellable_by_support(o.status, digital=o.is_digital),
                     why_not=lambda o: cancellation.plan_cancel(o, reason=CancellationReason.SUPPORT).refusal().message),
    "refund": Action(name="refund", label=gettext_lazy("返金（一部）"), run=_refund, consequences=_refund_consequences,
                     form_class=RefundForm, available=_refund_available, why_not=_refund_refusal),
    "resend-pickup-notice": Action(
        name="resend_pickup_notice", label=gettext_lazy("受取のお知らせを再送"), run=_resend, available=_pickup_ready,
        consequences=lambda o: [_("受取可能のお知らせ（お問い合わせ番号・認証番号・端末の操作手順）をもう一度送ります。"),
                                _("受取期限は変わりません。")]),
    "unlock-pickup": Action(
        name="unlock_pickup", label=gettext_lazy("受取端末のロックを解除"), run=_unlock,
        available=lambda o: _pickup_ready(o) and selectors.pickup_of(o).locked,
        consequences=lambda o: [_("連続した入力誤りによるロックを解除し、失敗回数を0に戻します。"),
                                _("お客様は同じお問い合わせ番号・認証番号で再び受け取れるようになります。")]),
    "approve": Action(name="approve_hold", label=gettext_lazy("審査を承認"), run=_approve, consequences=_approve_consequences,
                      form_class=NoteForm, available=lambda o: o.status == S.ON_HOLD),
    "reject": Action(name="reject_hold", label=gettext_lazy("審査で却下"), run=_reject, consequences=_reject_consequences,
                     form_class=NoteForm, available=lambda o: o.status == S.ON_HOLD, danger=True),
    "secure-account": Action(name="secure_account", label=gettext_lazy("アカウント保護"), run=_secure,
                             consequences=_secure_consequences, form_class=NoteForm, available=_secure_available,
                             danger=True),
    "issue-receipt": Action(name="issue_receipt", label=gettext_lazy("領収書を発行・再発行"), run=_issue_receipt,
                            consequences=_receipt_consequences, form_class=ReceiptForm,
                            why_not=_receipt_refusal, available=receipt_service.issuable),
}


# --- views -----------------------------------------------------------------------------------

class OrderDetailView(StaffView):
    page = "order"

    def get(self, request, number: str):
        canonical = _canonical(number)
        if canonical != number:
            return redirect("staff:order", number=canonical)
        order = selectors.order_detail(canonical)
        if order is None:
            raise Http404
        actions = [
            (action, reverse("staff:order_action", args=[order.number, key]))
            for key, action in ORDER_ACTIONS.items()
            if permissions.can_run(request.user, action.name) and action.available(order)
        ]
        shipment = getattr(order, "shipment", None)
        pickup = selectors.pickup_of(order)
        refunds = list(order.refunds.all())
        return render(request, "staff/order.html", {
            **notes_context(request, order),
            "order": order,
            "payment": getattr(order, "payment", None),
            "konbini": selectors.konbini_of(order),
            "shipment": shipment,
            "tracking": list(shipment.events.all()) if shipment else [],
            "pickup": pickup,
            "pickup_attempts": selectors.pickup_attempts(pickup) if pickup else [],
            "lines": list(order.lines.all()),
            "timeline": list(order.events.all()),
            "refunds": refunds,
            "refund_totals": refund_totals(refunds),
            "receipt_issues": receipt_selectors.issues_of_order(order),
            "risk_rules": selectors.risk_rules_in_words(order),
            "reports": _reports(order),
            "login_events": selectors.logins_around(order),
            "actions": actions,
            "status_labels": {value: _(label) for value, label in OrderStatus.choices},
        })


class OrderActionView(ActionView):
    page = "order"
    actions = ORDER_ACTIONS

    def get_object(self, number: str, **kwargs) -> Order:
        order = selectors.order_detail(_canonical(number))
        if order is None:
            raise Http404
        return order

    def object_url(self, order: Order) -> str:
        return reverse("staff:order", args=[order.number])

    def object_label(self, order: Order) -> str:
        return _("注文 %(number)s") % {"number": order.number}


class ReceiptPdfView(StaffView):
    """A receipt exactly as it was issued (from the recorded content): viewing it issues nothing."""

    page = "order"

    def get(self, request, number: str, issue_id: int):
        order = Order.objects.filter(number=_canonical(number)).first()
        issued = receipt_selectors.issue_of_order(order, issue_id) if order else None
        if issued is None:
            raise Http404
        response = HttpResponse(receipt_pdf.render(issued.content), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{issued.receipt.number}-{issued.sequence}.pdf"'
        return response
