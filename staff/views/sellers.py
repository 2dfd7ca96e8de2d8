"""Sellers: the closure request queue (oldest first) and the seller page with the request's live
blockers and checklist (seed 003: closing a seller account is a request to support)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shop.models import SellerClosureRequest
from shop.services import seller_closure
from staff import permissions, selectors
from staff.forms import SellerClosureCheckForm
from staff.views.base import Action, ActionView, StaffView, actor_of, with_item_tokens

OPEN = SellerClosureRequest.Status.OPEN


def _check(request, req: SellerClosureRequest, data: dict) -> str:
    seller_closure.complete_check(req, code=data["code"], actor=actor_of(request))
    return _("チェック項目を確認済みにしました。")


def _close(request, req: SellerClosureRequest, data: dict) -> str:
    seller_closure.close(req, actor=actor_of(request))
    return _("出品者「%(name)s」のアカウントを閉鎖しました。") % {"name": req.seller.name}


def _close_plan(req: SellerClosureRequest) -> list[str]:
    """The confirm page's lines, from the same blockers the closure checks."""
    lines = [_("閉鎖できません：%(message)s（%(n)s件）") % {"message": b.message, "n": b.count}
             for b in seller_closure.blockers(req.seller)]
    return lines + [
        _("チェックリストのすべての項目が確認済みである必要があります。"),
        _("出品者のAPIキーを無効にし、すべての出品を非公開にします（注文を受け付けなくなります）。"),
        _("これまでの注文・返金・入金の記録はそのまま残ります。"),
    ]


SELLER_CLOSURE_ACTIONS: dict[str, Action] = {
    "check": Action(name="seller_closure_check", label=gettext_lazy("チェック項目を確認済みにする"), run=_check,
                    form_class=SellerClosureCheckForm, available=lambda r: r.status == OPEN, once_per=("code",),
                    consequences=lambda r: [_("チェックリストの項目を確認済みとして記録します。")]),
    "close": Action(name="close_seller", label=gettext_lazy("出品者アカウントを閉鎖"), run=_close, danger=True,
                    available=lambda r: r.status == OPEN, consequences=_close_plan),
}


class SellerClosureQueueView(StaffView):
    page = "seller_closures"

    def get(self, request):
        return render(request, "staff/seller_closures.html", {
            "page_obj": selectors.paginate(selectors.open_seller_closures(), request.GET.get("page")),
            "checklist_size": len(seller_closure.CHECKLIST),
        })


class SellerDetailView(StaffView):
    page = "seller"

    def get(self, request, pk: int):
        seller = selectors.seller_detail(pk)
        if seller is None:
            raise Http404
        requests = selectors.seller_closure_requests(seller)
        current = next((r for r in requests if r.status == OPEN), None)
        standing = seller_closure.blockers(seller) if current else []
        can_check = current is not None and permissions.can_run(request.user, "seller_closure_check")
        check_url = reverse("staff:seller_closure_action", args=[current.pk, "check"]) if current else ""
        checklist = seller_closure.checklist_state(current, standing) if current else []
        if can_check:
            checklist = with_item_tokens(request, check_url, SELLER_CLOSURE_ACTIONS["check"], checklist)
        return render(request, "staff/seller.html", {
            "seller": seller,
            "requests": requests,
            "current": current,
            "blockers": standing,
            "checklist": checklist,
            "can_check": can_check,
            "check_url": check_url,
            "close_url": (reverse("staff:seller_closure_action", args=[current.pk, "close"])
                          if current and permissions.can_run(request.user, "close_seller") else ""),
        })


class SellerClosureActionView(ActionView):
    page = "seller_closures"
    actions = SELLER_CLOSURE_ACTIONS

    def get_object(self, pk: int, **kwargs) -> SellerClosureRequest:
        req = SellerClosureRequest.objects.select_related("seller").filter(pk=pk).first()
        if req is None:
            raise Http404
        return req

    def object_url(self, req) -> str:
        return reverse("staff:seller", args=[req.seller_id])

    def object_label(self, req) -> str:
        return _("出品者「%(name)s」の閉鎖依頼 #%(id)s") % {"name": req.seller.name, "id": req.pk}
