"""The order page and its actions (SPEC §1 timeline, seed 003 tracking table)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from backoffice.errors import DomainError
from payments import refunds as refund_service
from shop import states
from shop.models import CancellationReason, Order, OrderStatus
from shop.services import orders as order_service
from staff import permissions, selectors
from staff.forms import CancelForm
from staff.views.base import Action, ActionView, StaffView, actor_of


def _canonical(number: str) -> str:
    try:
        return order_service.format_order_number(number)
    except DomainError:
        raise Http404 from None


# --- actions ---------------------------------------------------------------------------------

def _cancel_available(order: Order) -> bool:
    return states.cancellable_by_support(order.status, digital=order.is_digital)


def _cancel_consequences(order: Order) -> list[str]:
    out = [_("注文の状態を「%(from)s」から「キャンセル」にします（理由：サポートによるキャンセル）。")
           % {"from": order.get_status_display()}]
    if order.status in states.NOT_YET_SHIPPED:
        out.append(_("在庫を戻します。"))
    payment = getattr(order, "payment", None)
    if payment is not None and payment.status == payment.Status.PENDING:
        out.append(_("未払いの支払い（%(method)s）を無効にします。") % {"method": payment.get_method_display()})
    if payment is not None and payment.refundable > 0:
        method = refund_service.method_for(payment)
        label = dict(refund_service.Refund.Method.choices)[method]
        out.append(_("支払い済みの %(amount)s円 を%(method)sへ返金します。")
                   % {"amount": f"{payment.refundable:,}", "method": label})
    out.append(_("お客様にキャンセルのお知らせを送ります。"))
    return out


def _cancel(request, order: Order, data: dict) -> str:
    order_service.cancel(order, reason=CancellationReason.SUPPORT, actor=actor_of(request), note=data.get("note", ""))
    return _("注文 %(number)s をキャンセルしました。") % {"number": order.number}


ORDER_ACTIONS: dict[str, Action] = {
    "cancel": Action(name="cancel", label=_lazy("注文をキャンセル"), run=_cancel, consequences=_cancel_consequences,
                     form_class=CancelForm, available=_cancel_available, danger=True),
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
            (action, reverse("staff:order_action", args=[order.number, action.name]))
            for action in ORDER_ACTIONS.values()
            if permissions.can_run(request.user, action.name) and action.available(order)
        ]
        shipment = getattr(order, "shipment", None)
        return render(request, "staff/order.html", {
            "order": order,
            "payment": getattr(order, "payment", None),
            "shipment": shipment,
            "tracking": list(shipment.events.all()) if shipment else [],
            "lines": list(order.lines.all()),
            "lines_total": selectors.lines_total(order),
            "timeline": list(order.events.all()),
            "refunds": list(order.refunds.all()),
            "risk_rules": selectors.risk_rules_in_words(order),
            "actions": actions,
            "status_labels": dict(OrderStatus.choices),
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
