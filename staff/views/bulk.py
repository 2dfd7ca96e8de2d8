"""Cancel many orders at once (the admin's bulk action comes here): the confirm page lists every
selected order with the plan the cancellation core will execute, and asks for the reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice import formtokens
from shop.models import CancellationReason, Order, OrderStatus
from shop.services import cancellation
from staff import permissions
from staff import services as staff_services
from staff.views.base import StaffView, actor_of, forbidden
from staff.views.orders import plan_words

# The reasons a person chooses when cancelling by hand (the others are the system's own).
STAFF_REASONS = (CancellationReason.SUPPORT, CancellationReason.CUSTOMER_REQUEST,
                 CancellationReason.UNAUTHORIZED_ORDER, CancellationReason.SELLER_CANCELLED)
MAX_ORDERS = 200


class BulkCancelForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("キャンセル理由"),
                               choices=[(r.value, r.label) for r in STAFF_REASONS])
    note = forms.CharField(label=gettext_lazy("メモ（タイムラインに残ります）"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _scope(request, ids: list[int]) -> str:
    return f"{request.path}?ids={','.join(map(str, ids))}"


def _ids(raw: str) -> list[int]:
    return sorted({int(part) for part in raw.split(",") if part.strip().isdigit()})[:MAX_ORDERS]


class BulkCancelView(StaffView):
    page = "order"

    def _render(self, request, ids: list[int], form, status: int = 200):
        reason = form.data.get("reason") if form.is_bound else CancellationReason.SUPPORT
        if reason not in CancellationReason.values:
            reason = CancellationReason.SUPPORT
        plans = cancellation.plan(ids, reason=reason)
        rows = [(plan, plan_words(plan), _(OrderStatus(plan.from_status).label)) for plan in plans.values()]
        allowed = sum(plan.allowed for plan in plans.values())
        return render(request, "staff/bulk_cancel.html", {
            "rows": rows, "refund_total": sum(p.refund_amount for p in plans.values() if p.allowed),
            "form": form, "ids": ",".join(map(str, ids)), "allowed_count": allowed,
            "form_token": formtokens.issue(user=request.user, scope=_scope(request, ids)) if allowed else "",
        }, status=status)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_staff and not permissions.can_run(
                request.user, "cancel"):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        # ``?ids=1,2,3`` (the admin's bulk action) or one ``ids`` per ticked row (a console list).
        ids = _ids(",".join(request.GET.getlist("ids")))
        form = BulkCancelForm(initial={"reason": request.GET.get("reason", CancellationReason.SUPPORT)})
        return self._render(request, ids, form)

    def post(self, request):
        ids = _ids(request.POST.get("ids", ""))
        form = BulkCancelForm(request.POST)
        if not form.is_valid() or not ids:
            return self._render(request, ids, form, status=400)
        try:
            # One-time token (backoffice.formtokens): a double submit of this page cancels once.
            with formtokens.once(token=request.POST.get(formtokens.FIELD, ""), user=request.user,
                                 scope=_scope(request, ids)):
                result, refused = cancellation.cancel_allowed(
                    ids, reason=form.cleaned_data["reason"], actor=actor_of(request), note=form.cleaned_data["note"])
                for order in Order.objects.filter(pk__in=result.cancelled).only("pk", "number"):
                    staff_services.record_activity(
                        user=request.user, action="cancel", obj=order, label=_("注文 %(number)s") % {"number": order.number},
                        url=reverse("staff:order", args=[order.number]), summary=_("まとめてキャンセル"))
        except formtokens.FormTokenRefused as exc:
            return render(request, "staff/form_refused.html", {
                "action": {"label": _("注文をまとめてキャンセル")}, "object_label": _("選択した注文"),
                "object_url": reverse("staff:dashboard"), "error": exc, "confirm_url": request.get_full_path(),
            }, status=exc.status)
        if result.cancelled:
            messages.success(request, _("%(count)s件の注文をキャンセルしました。") % {"count": len(result.cancelled)})
        for plan in refused:
            messages.warning(request, f"{plan.number}: {plan.refusal().message}")
        numbers = Order.objects.filter(pk__in=result.cancelled).values_list("number", flat=True)
        if len(result.cancelled) == 1:
            return redirect("staff:order", number=numbers[0])
        return redirect("staff:dashboard")
