"""The order state machine as data (SPEC §2 "Statuses")."""

from __future__ import annotations

from dataclasses import dataclass

from payments.models import Payment
from shop.models import CancellationReason as R
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
    # Issue 14: the register voided the sale (速報取消) before shipment: the order awaits its payment again.
    (S.PROCESSING, S.PENDING_PAYMENT): "速報取消（発送前）",
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


# --- cancellation rules (shop.services.cancellation applies them; the staff confirm page shows them)

@dataclass(frozen=True)
class CancelRule:
    """Which statuses a cancellation reason may cancel, and whether the units go back to stock."""

    statuses: frozenset[str]
    # A digital order (nothing shipped) may also be cancelled once delivered: access is revoked.
    digital_after_delivery: bool = False
    # Units come back for an order not yet shipped; after shipment only when the parcel itself
    # comes back to the warehouse (refused, returned, not collected at the konbini).
    restock_after_shipment: bool = False


_BY_SUPPORT = CancelRule(frozenset(NOT_YET_SHIPPED), digital_after_delivery=True)
CANCEL_RULES: dict[str, CancelRule] = {
    R.CUSTOMER_REQUEST: CancelRule(frozenset(NOT_YET_SHIPPED)),  # SPEC §2: before shipment only
    R.SUPPORT: _BY_SUPPORT,  # SPEC §2: support may cancel any order not yet shipped, and a digital order
    R.UNAUTHORIZED_ORDER: _BY_SUPPORT,  # seed 002: the playbook cancels what the customer did not order
    R.SELLER_CANCELLED: _BY_SUPPORT,
    R.RISK_REJECTED: CancelRule(frozenset({S.ON_HOLD})),  # SPEC §5: a held order rejected by review or score
    R.PAYMENT_EXPIRED: CancelRule(frozenset({S.PENDING_PAYMENT})),  # seed 003: 期限を過ぎると自動的にキャンセル
    # A card order whose capture was declined, lost or never recorded (before anything shipped).
    R.PAYMENT_FAILED: CancelRule(frozenset(NOT_YET_SHIPPED)),
    R.PICKUP_EXPIRED: CancelRule(frozenset({S.READY_FOR_PICKUP}), restock_after_shipment=True),  # seed 001
    R.COD_REFUSED: CancelRule(frozenset({S.SHIPPED}), restock_after_shipment=True),  # SPEC §5
    R.RETURNED: CancelRule(frozenset({S.SHIPPED, S.READY_FOR_PICKUP}), restock_after_shipment=True),
}


def cancellable(reason: str, status: str, *, digital: bool) -> bool:
    rule = CANCEL_RULES[reason]
    if status in rule.statuses:
        return allowed(status, S.CANCELLED, digital=digital)
    return rule.digital_after_delivery and digital and status == S.DELIVERED


def restocks(reason: str, status: str) -> bool:
    return status in NOT_YET_SHIPPED or CANCEL_RULES[reason].restock_after_shipment


def cancellable_by_support(status: str, *, digital: bool) -> bool:
    """SPEC §2: support may cancel any order not yet shipped, and a digital order."""
    return cancellable(R.SUPPORT, status, digital=digital)


# --- payment statuses (payments.models.Payment.Status), the konbini settlement of issue 14 ---------

P = Payment.Status
PAYMENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (P.PENDING, P.PAID): "入金（コンビニの速報・代引き・カード）",
    (P.PENDING, P.VOIDED): "支払い前のキャンセル",
    (P.PAID, P.SETTLED): "確報で入金確定",
    (P.PAID, P.PENDING): "速報取消（発送前）：再び支払い待ち",
    # Cash the final report lists for an order cancelled before payment (its refund is requested).
    (P.VOIDED, P.SETTLED): "キャンセル後の入金を確報で確定",
    # A correction (訂正) of the final report no longer lists it: back to the preliminary alone.
    (P.SETTLED, P.PAID): "確報の訂正で入金確定を取り消し",
}


def payment_allowed(from_status: str, to_status: str) -> bool:
    return (from_status, to_status) in PAYMENT_TRANSITIONS


def released_status(*, method: str, digital: bool, paid: bool) -> str:
    """Where an order stands once nothing holds it (SPEC §2): a konbini order not yet paid awaits
    its payment; a paid digital order is delivered (nothing to ship, seed 002); anything else is
    processed. Placement, a review's approval and a konbini payment all move an order with it."""
    if method == PaymentMethod.KONBINI and not paid:
        return S.PENDING_PAYMENT
    if digital and paid:
        return S.DELIVERED
    return S.PROCESSING
