"""Work queues: call-back requests (oldest first), failed refunds, orders on hold."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments import gateway_errors
from payments.models import Refund
from payments.services import refunds as refund_service
from shop.models import CallbackRequest
from shop.services import customers as customer_service
from staff import exports, selectors
from staff.exports import ORDER_COLUMNS
from staff.forms import CallbackOutcomeForm, RetryRefundForm
from staff.templatetags.staff_tags import phone as phone_words
from staff.views.base import Action, ActionView, StaffView, actor_of


class CallbackQueueView(StaffView):
    """Open call-backs oldest first (claimed ones show who has them); ``?show=closed`` the closed
    ones with their outcome, newest first."""

    page = "callbacks"

    def get(self, request):
        show = request.GET.get("show") if request.GET.get("show") in ("closed", "mine") else "open"
        if show == "closed":
            queryset = selectors.closed_callbacks()
        elif show == "mine":
            queryset = selectors.open_callbacks().filter(claimed_by=str(actor_of(request)))
        else:
            queryset = selectors.open_callbacks()
        if exports.wants_csv(request):
            return exports.export(request, f"callbacks-{show}", queryset, [
                (_("受付日時"), lambda cb: cb.created_at), (_("お客様"), lambda cb: cb.customer.name),
                (_("電話番号"), lambda cb: phone_words(cb.phone)), (_("用件"), lambda cb: cb.topic),
                (_("注文"), lambda cb: cb.order.number if cb.order else ""),
                (_("状態"), lambda cb: _(cb.get_status_display())), (_("担当"), lambda cb: cb.claimed_by),
                (_("結果"), lambda cb: _(cb.get_outcome_display()) if cb.outcome else ""),
                (_("結果のメモ"), lambda cb: cb.outcome_note), (_("対応日時"), lambda cb: cb.handled_at)])
        page_obj = selectors.paginate(queryset, request.GET.get("page"))
        return render(request, "staff/callbacks.html", {
            "show": show, "page_obj": page_obj, "me": str(actor_of(request)),
            "notes": selectors.notes_of_callbacks(list(page_obj)),
        })


def _claim_callback(request, cb: CallbackRequest, data: dict) -> str:
    customer_service.claim_callback(request_id=cb.pk, staff=actor_of(request))
    return _("折り返し電話 #%(id)s の担当になりました。") % {"id": cb.pk}


def _complete_callback(request, cb: CallbackRequest, data: dict) -> str:
    customer_service.complete_callback(request_id=cb.pk, staff=actor_of(request), outcome=data.get("outcome", ""),
                                       note=data.get("note", ""))
    return _("折り返し電話 #%(id)s を対応済みにしました。") % {"id": cb.pk}


def _claim_consequences(cb: CallbackRequest) -> list[str]:
    return [_("この依頼の担当者をあなたにします。ほかのスタッフには「対応中」と表示されます。"),
            _("電話番号：%(phone)s（%(name)s 様）") % {"phone": phone_words(cb.phone), "name": cb.customer.name}]


CALLBACK_ACTIONS = {
    "claim": Action(
        name="claim_callback", label=gettext_lazy("担当する"), run=_claim_callback,
        consequences=_claim_consequences,
        available=lambda cb: cb.status == CallbackRequest.Status.WAITING,
    ),
    "complete": Action(
        name="complete_callback", label=gettext_lazy("結果を記録して完了"), run=_complete_callback,
        form_class=CallbackOutcomeForm,
        consequences=lambda cb: [_("この依頼を「対応済み」にし、結果と対応者としてあなたの名前を記録します。"),
                                 _("完了した依頼は「完了した依頼」の一覧に残ります。")],
        available=lambda cb: cb.status in CallbackRequest.OPEN_STATUSES,
    ),
}


class CallbackActionView(ActionView):
    page = "callbacks"
    actions = CALLBACK_ACTIONS

    def get_object(self, pk: int, **kwargs) -> CallbackRequest:
        cb = CallbackRequest.objects.select_related("customer", "order").filter(pk=pk).first()
        if cb is None:
            raise Http404
        return cb

    def object_url(self, cb) -> str:
        return reverse("staff:callbacks")

    def object_label(self, cb) -> str:
        return _("折り返し電話 #%(id)s（%(name)s %(phone)s）") % {"id": cb.pk, "name": cb.customer.name, "phone": cb.phone}


class FailedRefundsView(StaffView):
    page = "failed_refunds"

    def get(self, request):
        if exports.wants_csv(request):
            return exports.export(request, "failed-refunds", selectors.failed_refunds(), [
                (_("返金#"), lambda r: r.pk), (_("受付日時"), lambda r: r.created_at), (_("失敗日時"), lambda r: r.updated_at),
                (_("注文"), lambda r: r.order.number), (_("お客様"), lambda r: r.order.customer.name),
                (_("金額"), lambda r: r.amount), (_("返金方法"), lambda r: _(r.get_method_display())),
                (_("試行回数"), lambda r: r.attempts),
                (_("最後のエラー"), lambda r: str(gateway_errors.describe(r.last_error_code).message)),
                (_("エラーコード"), lambda r: gateway_errors.quoted(r.last_error_code, r.last_error))])
        return render(request, "staff/failed_refunds.html", {
            "page_obj": selectors.paginate(selectors.failed_refunds(), request.GET.get("page")),
        })


class ReviewQueueView(StaffView):
    """Orders on hold for risk review, highest risk first, then oldest (``review.held_orders``)."""

    page = "review_queue"

    def get(self, request):
        if exports.wants_csv(request):
            return exports.export(request, "review-queue", selectors.orders_on_hold(), ORDER_COLUMNS + [
                (_("リスクスコア"), lambda o: o.risk_score)])
        return render(request, "staff/review_queue.html", {
            "page_obj": selectors.paginate(selectors.orders_on_hold(), request.GET.get("page")),
        })


# --- failed refunds: retry ---------------------------------------------------------------------

def _retry_refund(request, refund: Refund, data: dict) -> str:
    refund_service.retry(refund_id=refund.pk, actor=actor_of(request), to_gift_card=data.get("to_gift_card", False))
    return _("返金#%(id)s を再試行します。") % {"id": refund.pk}


def _last_failure(refund: Refund) -> list[str]:
    """The last gateway failure in words, with its code, and what to do (``gateway_errors``)."""
    text = gateway_errors.describe(refund.last_error_code)
    return [_("前回の失敗：%(message)s（%(code)s）") % {"message": text.message,
                                                   "code": gateway_errors.quoted(refund.last_error_code,
                                                                                 refund.last_error)},
            str(text.hint)]


REFUND_ACTIONS = {
    "retry": Action(
        name="retry_refund", label=gettext_lazy("返金を再試行"), run=_retry_refund, form_class=RetryRefundForm,
        available=lambda r: r.status == Refund.Status.FAILED,
        consequences=lambda r: [
            _("返金#%(id)s（%(amount)s円・%(method)s）をもう一度処理します。試行回数は0から数え直します。")
            % {"id": r.pk, "amount": f"{r.amount:,}", "method": _(r.get_method_display())},
            _("「ギフト券残高への返金に切り替える」を選ぶと、お客様のギフト券残高に返金します。"),
            *(_last_failure(r) if r.last_error or r.last_error_code else []),
        ]),
}


class RefundActionView(ActionView):
    page = "failed_refunds"
    actions = REFUND_ACTIONS

    def get_object(self, pk: int, **kwargs) -> Refund:
        refund = Refund.objects.select_related("order", "order__customer").filter(pk=pk).first()
        if refund is None:
            raise Http404
        return refund

    def object_url(self, refund) -> str:
        return reverse("staff:failed_refunds")

    def object_label(self, refund) -> str:
        return _("返金#%(id)s（注文 %(number)s）") % {"id": refund.pk, "number": refund.order.number}


# --- pickups: expiring soon, locked --------------------------------------------------------------

class PickupListView(StaffView):
    page = "pickups"

    def get(self, request):
        show = "locked" if request.GET.get("show") == "locked" else "expiring"
        queryset = selectors.pickups_locked() if show == "locked" else selectors.pickups_expiring()
        if exports.wants_csv(request):
            return exports.export(request, f"pickups-{show}", queryset, [
                (_("注文番号"), lambda p: p.order.number), (_("お客様"), lambda p: p.order.customer.name),
                (_("受取店舗"), lambda p: p.store.name), (_("お問い合わせ番号"), lambda p: p.inquiry_number),
                (_("受取期限"), lambda p: p.deadline), (_("連続失敗回数"), lambda p: p.consecutive_failures),
                (_("ロック日時"), lambda p: p.locked_at)])
        return render(request, "staff/pickups.html", {
            "show": show, "page_obj": selectors.paginate(queryset, request.GET.get("page")),
        })
