"""Seller account closure (出品用アカウントの閉鎖, seed 003): a request to support, never a button.

The seller files a request (phone, comment); its blockers are computed live from the seller's
data; support works the request from the staff console's queue, confirms each checklist item
(refused while the blocker behind it stands) and closes it once no blocker stands and every item
is confirmed. Closing revokes the seller's API keys and hides its listings; its orders stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from backoffice.errors import Conflict, InvalidInput, join_lazy
from backoffice.models import Partner
from backoffice.normalize import phone_e164
from backoffice.timeutil import now
from payments.models import Refund
from payments.services import bank
from shop.models import Listing, Order, OrderStatus, Seller, SellerClosureCheck, SellerClosureRequest

S = OrderStatus
Req = SellerClosureRequest.Status

# Seed 003 (出品用アカウント閉鎖前にすること), each blocker in its words.
BLOCKER_MESSAGES = {
    "active_listings": "出品中の商品があります（すべて取り下げて出品数を0にしてください）。",
    "platform_inventory": "当社倉庫（FBA）に在庫が残っています（返送または所有権の放棄を依頼してください）。",
    "open_orders": "完了していない注文があります。",
    "open_refunds": "完了していない返品・返金があります。",
    "payout_account_missing": "最後の入金を受ける有効な銀行口座が登録されていません。",
}
# The checklist support confirms (code, label, the blockers that must be clear first), in order.
CHECKLIST: list[tuple[str, str, tuple[str, ...]]] = [
    ("listings_withdrawn", "出品中の商品がすべて取り下げられている（出品数0）", ("active_listings",)),
    ("inventory_returned", "FBA在庫の返送または所有権の放棄が完了している", ("platform_inventory",)),
    ("orders_refunds_settled", "注文・返品・返金がすべて完了している", ("open_orders", "open_refunds")),
    ("payout_account_valid", "最後の入金を受ける銀行口座が有効である", ("payout_account_missing",)),
]
OPEN_ORDER_STATUSES = (S.ON_HOLD, S.PENDING_PAYMENT, S.PROCESSING, S.SHIPPED, S.READY_FOR_PICKUP)
OPEN_REFUND_STATUSES = (Refund.Status.REQUESTED, Refund.Status.PROCESSING, Refund.Status.FAILED)


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str
    count: int


def _seller_orders(seller: Seller):
    return Order.objects.filter(lines__listing__seller=seller)


def blockers(seller: Seller) -> list[Blocker]:
    """What still stands between the seller and closing, computed now (five queries)."""
    counts = {
        "active_listings": Listing.objects.filter(seller=seller, visible=True, stock__gt=0,
                                                  fulfilled_by=Listing.FulfilledBy.SELLER).count(),
        "platform_inventory": Listing.objects.filter(seller=seller, stock__gt=0,
                                                     fulfilled_by=Listing.FulfilledBy.PLATFORM).count(),
        "open_orders": _seller_orders(seller).filter(status__in=OPEN_ORDER_STATUSES).distinct().count(),
        "open_refunds": Refund.objects.filter(order__in=_seller_orders(seller).values("pk"),
                                              status__in=OPEN_REFUND_STATUSES).count(),
        "payout_account_missing": 0 if bank.payout_account_valid(seller) else 1,
    }
    return [Blocker(code, BLOCKER_MESSAGES[code], n) for code, n in counts.items() if n]


def checklist_state(req: SellerClosureRequest, standing: list[Blocker]) -> list[dict]:
    """Each checklist item: confirmed by whom and when, and whether a blocker behind it still stands."""
    done = {c.code: c for c in req.checks.all()}
    codes = {b.code for b in standing}
    return [{"code": code, "label": label, "done": code in done, "blocked": bool(codes & set(behind)),
             "done_by": done[code].done_by if code in done else None,
             "done_at": done[code].done_at if code in done else None}
            for code, label, behind in CHECKLIST]


def request_closure(*, seller: Seller, phone: str, comment: str, actor: str) -> SellerClosureRequest:
    """File the request (seed 003: e-mail, phone, comment); a seller has at most one open request,
    and a second filing answers with it."""
    phone = phone_e164(phone, field="phone")
    if seller.closed_at is not None:
        raise Conflict("この出品者アカウントは既に閉鎖されています。", code="seller_closed")
    existing = SellerClosureRequest.objects.filter(seller=seller, status=Req.OPEN).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return SellerClosureRequest.objects.create(seller=seller, phone=phone, comment=comment[:2000],
                                                       created_at=now())
    except IntegrityError:  # filed twice at once: the unique open request decides
        return SellerClosureRequest.objects.get(seller=seller, status=Req.OPEN)


def _locked(req: SellerClosureRequest) -> SellerClosureRequest:
    req = SellerClosureRequest.objects.select_for_update().select_related("seller").get(pk=req.pk)
    if req.status != Req.OPEN:
        raise Conflict("この閉鎖依頼は既に完了しています。", code="closure_request_closed")
    return req


def _refuse_if_blocked(standing: list[Blocker]) -> None:
    if standing:
        raise Conflict("閉鎖できない理由があります：%(reasons)s",
                       params={"reasons": join_lazy([b.message for b in standing], " ")},
                       code="closure_blocked", reasons=[b.code for b in standing])


def complete_check(req: SellerClosureRequest, *, code: str, actor: str) -> SellerClosureCheck:
    """Support confirms one checklist item; refused while a blocker behind it stands."""
    behind = next((b for c, _, b in CHECKLIST if c == code), None)
    if behind is None:
        raise InvalidInput("チェック項目が正しくありません。", code="invalid", field="code")
    with transaction.atomic():
        req = _locked(req)
        _refuse_if_blocked([b for b in blockers(req.seller) if b.code in behind])
        check, _ = SellerClosureCheck.objects.get_or_create(request=req, code=code,
                                                            defaults={"done_by": str(actor)[:100], "done_at": now()})
    return check


def close(req: SellerClosureRequest, *, actor: str) -> SellerClosureRequest:
    """Close the seller's account: no blocker may stand and every item must be confirmed. Revokes
    the seller's API keys, hides its listings; its orders, refunds and payouts stay."""
    with transaction.atomic():
        req = _locked(req)
        seller = Seller.objects.select_for_update(no_key=True).get(pk=req.seller_id)
        _refuse_if_blocked(blockers(seller))
        done = set(req.checks.values_list("code", flat=True))
        missing = [label for code, label, _ in CHECKLIST if code not in done]
        if missing:
            raise Conflict("チェックリストが完了していません：%(items)s", params={"items": join_lazy(missing, "、")},
                           code="checklist_incomplete")
        at = now()
        Partner.objects.filter(seller=seller).update(active=False)
        Listing.objects.filter(seller=seller).update(visible=False)
        Seller.objects.filter(pk=seller.pk).update(closed_at=at)
        req.status, req.closed_at, req.closed_by = Req.CLOSED, at, str(actor)[:100]
        req.save(update_fields=["status", "closed_at", "closed_by"])
    return req
