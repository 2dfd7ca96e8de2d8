"""The order state machine as data (SPEC §2 "Statuses")."""

from __future__ import annotations

from shop.models import OrderStatus as S
from shop.models import PaymentMethod

# (from, to) → a short Japanese description of when it happens. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.ON_HOLD, S.PENDING_PAYMENT): "審査承認（コンビニ払い）",
    (S.ON_HOLD, S.PROCESSING): "審査承認",
    (S.ON_HOLD, S.DELIVERED): "審査承認（デジタル商品）",
    (S.ON_HOLD, S.CANCELLED): "審査却下・キャンセル",
    (S.PENDING_PAYMENT, S.PROCESSING): "入金確認",
    (S.PENDING_PAYMENT, S.DELIVERED): "入金確認（デジタル商品）",
    (S.PENDING_PAYMENT, S.CANCELLED): "支払い期限切れ・キャンセル",
    (S.PROCESSING, S.SHIPPED): "出荷登録",
    (S.PROCESSING, S.DELIVERED): "デジタル商品の提供",
    (S.PROCESSING, S.CANCELLED): "発送前キャンセル",
    (S.SHIPPED, S.READY_FOR_PICKUP): "店舗到着",
    (S.SHIPPED, S.DELIVERED): "配達完了",
    (S.SHIPPED, S.CANCELLED): "受取拒否・返送",
    (S.READY_FOR_PICKUP, S.DELIVERED): "店舗で受取",
    (S.READY_FOR_PICKUP, S.CANCELLED): "受取期限切れ",
    # A delivered digital order can still be cancelled (access revoked); DIGITAL_ONLY below.
    (S.DELIVERED, S.CANCELLED): "デジタル商品の利用停止",
}

# Only a digital order (nothing to ship) is delivered without being shipped, and only a digital
# delivery can be taken back.
DIGITAL_ONLY = {
    (S.ON_HOLD, S.DELIVERED), (S.PENDING_PAYMENT, S.DELIVERED), (S.PROCESSING, S.DELIVERED),
    (S.DELIVERED, S.CANCELLED),
}

INITIAL = {S.ON_HOLD, S.PENDING_PAYMENT, S.PROCESSING, S.CANCELLED}
NOT_YET_SHIPPED = {S.ON_HOLD, S.PENDING_PAYMENT, S.PROCESSING}


def allowed(from_status: str, to_status: str, *, digital: bool = False) -> bool:
    if (from_status, to_status) not in TRANSITIONS:
        return False
    return digital or (from_status, to_status) not in DIGITAL_ONLY


def cancellable_by_support(status: str, *, digital: bool) -> bool:
    """SPEC §2: support may cancel any order not yet shipped, and a digital order."""
    return status in NOT_YET_SHIPPED or (digital and status != S.CANCELLED)


def released_status(*, method: str, digital: bool, paid: bool) -> str:
    """Where an order stands once nothing holds it (SPEC §2): a konbini order not yet paid awaits
    its payment; a paid digital order is delivered (nothing to ship, seed 002); anything else is
    processed. Placement, a review's approval and a konbini payment all move an order with it."""
    if method == PaymentMethod.KONBINI and not paid:
        return S.PENDING_PAYMENT
    if digital and paid:
        return S.DELIVERED
    return S.PROCESSING
