"""The customer page: orders, gift-card balance and points with their histories, no-shows,
suspension, logins, and the closure (退会) with its check."""

from __future__ import annotations

import secrets

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fraud.services import accounts
from payments.services import points
from receipts import selectors as receipt_selectors
from shop.models import Customer, CustomerClosure
from shop.services import closure
from staff import permissions, selectors
from staff.forms import CustomerClosureForm, PointsAdjustmentForm, RequiredNoteForm
from staff.views.base import Action, ActionView, StaffView, actor_of
from staff.views.work import notes_context


def _suspend(request, customer: Customer, data: dict) -> str:
    accounts.suspend(customer, reason=data["note"], actor=actor_of(request))
    return _("%(name)s 様のアカウントを利用停止にしました。") % {"name": customer.name}


def _reinstate(request, customer: Customer, data: dict) -> str:
    accounts.reinstate(customer, reason=data["note"], actor=actor_of(request))
    return _("%(name)s 様のアカウントの利用停止を解除しました。") % {"name": customer.name}


def _close(request, customer: Customer, data: dict) -> str:
    closure.close(customer, confirm_forfeit=data["confirm_forfeit"], actor=actor_of(request))
    return _("%(name)s 様のアカウントを閉鎖しました（個人情報は削除ジョブが消去します）。") % {"name": customer.name}


def _closure_plan(customer: Customer) -> list[str]:
    """The confirm page's lines, from the same check the closure runs (blockers first)."""
    plan = closure.check(customer)
    lines = [_("退会できません：%(message)s%(orders)s") % {
        "message": b.message, "orders": f"（{'、'.join(b.order_numbers)}）" if b.order_numbers else ""}
        for b in plan.blockers]
    lines.append(_("ギフト券残高 %(yen)s円 と %(points)s ポイントが失効します（新しいアカウントへは移せません）。") % {
        "yen": f"{plan.gift_card_balance:,}", "points": f"{plan.points:,}"})
    lines += [w.message for w in plan.warnings if w.code != "balances_not_transferable"]
    lines += [
        _("すべての端末のログインを無効にし、以後この外部IDのAPIは 410 customer_closed を返します。"),
        _("氏名・メールアドレス・電話番号・住所・ログイン履歴のIPと端末・返金用口座を削除します（元に戻せません）。"),
        _("注文・支払い・返金・ギフト券とポイントの履歴は帳簿として保存します。"),
    ]
    return lines


def _adjust_points(request, customer: Customer, data: dict) -> str:
    points.adjust(customer=customer, points=data["points"], note=data["note"], actor=actor_of(request),
                  reference=f"staff:{secrets.token_hex(8)}")
    return _("ポイントを調整しました（%(points)s）。") % {"points": f"{data['points']:+,}"}


CUSTOMER_ACTIONS: dict[str, Action] = {
    "suspend": Action(
        name="suspend_customer", label=gettext_lazy("アカウントを利用停止"), run=_suspend, form_class=RequiredNoteForm,
        danger=True, available=lambda c: not c.suspended,
        consequences=lambda c: [
            _("新しい注文を受け付けなくなります（ストアは「このアカウントは現在ご利用いただけません」と表示）。"),
            _("すべての端末のログインを無効にします。"),
            _("理由は記録に残ります。"),
        ]),
    "reinstate": Action(
        name="reinstate_customer", label=gettext_lazy("利用停止を解除"), run=_reinstate, form_class=RequiredNoteForm,
        available=lambda c: c.suspended,
        consequences=lambda c: [_("再び注文できるようになります。理由は記録に残ります。")]),
    "adjust-points": Action(
        name="adjust_points", label=gettext_lazy("ポイントを調整"), run=_adjust_points, form_class=PointsAdjustmentForm,
        available=lambda c: c.closed_at is None,
        consequences=lambda c: [_("ポイント残高を増減し、理由とともに履歴に残します。残高をマイナスにはできません。")]),
    "close": Action(
        name="close_customer", label=gettext_lazy("アカウントを閉鎖（退会）"), run=_close,
        form_class=CustomerClosureForm, danger=True, available=lambda c: c.closed_at is None,
        consequences=_closure_plan),
}


class CustomerDetailView(StaffView):
    page = "customer"

    def get(self, request, pk: int):
        customer = get_object_or_404(Customer, pk=pk)
        account = selectors.customer_gift_card(customer)
        points_balance, points_entries = selectors.customer_points(customer)
        return render(request, "staff/customer.html", {
            **notes_context(request, customer),
            "customer": customer,
            "points_balance": points_balance,
            "points_entries": points_entries,
            "closure": CustomerClosure.objects.filter(customer=customer).first() if customer.closed_at else None,
            "orders": selectors.paginate(selectors.customer_orders(customer), request.GET.get("page")),
            "stats": selectors.customer_stats(customer),
            "gift_card": account,
            "gift_entries": (selectors.paginate(selectors.gift_card_entries(account), request.GET.get("gpage"))
                             if account else None),
            "login_events": selectors.customer_logins(customer),
            "revocations": selectors.customer_session_revocations(customer),
            "password_resets": selectors.customer_password_resets(customer),
            "customer_messages": selectors.paginate(selectors.customer_messages(customer), request.GET.get("mpage"), 20),
            "reports": selectors.customer_reports(customer),
            "receipt_issues": selectors.paginate(receipt_selectors.issues_of_customer(customer),
                                                 request.GET.get("rpage")),
            "customer_actions": [
                (action, reverse("staff:customer_action", args=[customer.pk, key]))
                for key, action in CUSTOMER_ACTIONS.items()
                if permissions.can_run(request.user, action.name) and action.available(customer)
            ],
        })


class CustomerActionView(ActionView):
    page = "customer"
    actions = CUSTOMER_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Customer:
        customer = Customer.objects.filter(pk=pk).first()
        if customer is None:
            raise Http404
        return customer

    def object_url(self, customer: Customer) -> str:
        return reverse("staff:customer", args=[customer.pk])

    def object_label(self, customer: Customer) -> str:
        return _("%(name)s 様（%(id)s）") % {"name": customer.name, "id": customer.external_id}
