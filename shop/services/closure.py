"""Customer closure (退会, seed 003; SPEC §5b). ``check`` is the plan: every blocker, what will be
forfeited and what will no longer be available; ``close`` runs that same check under the customer
lock and refuses while a blocker stands. Closing forfeits the gift-card balance and the points with
ledger entries, revokes the sessions and schedules the erasure of the personal data
(``shop.services.erasure``, a job); the books stay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import transaction

from backoffice.errors import Conflict, InvalidInput, join_lazy
from backoffice.timeutil import local, now
from fraud.models import OPEN_REPORT_STATUSES, Report, SessionRevocation
from fraud.services import accounts
from payments.models import GiftCardAccount, PointsAccount, Refund
from payments.services import giftcards, points
from receipts import services as receipt_services
from shop.models import Customer, CustomerClosure, Order, OrderStatus
from shop.services import customers

S = OrderStatus

# Seed 003 (アカウント削除前の確認事項: 未発送の商品がないか): an order not yet in the customer's
# hands blocks the closure — shipped parcels included, since a refusal or a return would refund
# an account that no longer exists (decision).
UNSHIPPED_STATUSES = (S.ON_HOLD, S.PROCESSING, S.SHIPPED, S.READY_FOR_PICKUP)
# A refund that has not reached the customer (requested, processing, awaiting transfer, failed).
PENDING_REFUND_STATUSES = (Refund.Status.REQUESTED, Refund.Status.PROCESSING, Refund.Status.FAILED)

BLOCKER_MESSAGES = {
    "unshipped_orders": "お届けが完了していないご注文があります。",
    "pending_payment": "コンビニでのお支払いをお待ちしているご注文があります。",
    "pending_refunds": "返金が完了していないご注文があります。",
    "open_report": "対応中のお問い合わせ（不正利用の報告など）があります。",
}
# Seed 003: after closing, receipts, digital content and memberships can no longer be used.
WARNING_MESSAGES = {
    "receipts_unavailable": "退会後は領収書を発行・印刷できなくなります。必要な領収書は退会前に印刷してください。",
    "digital_content_unavailable": "購入したデジタルコンテンツは退会後にダウンロード・視聴できなくなります。",
    "prime_membership_ends": "プライム会員の特典は退会と同時に終了します。",
    "balances_not_transferable": "ギフト券残高とポイントは失効し、新しいアカウントへ移すことはできません。",
}


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str
    order_numbers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClosureWarning:
    code: str
    message: str


@dataclass(frozen=True)
class ClosureCheck:
    blockers: list[Blocker]
    gift_card_balance: int
    points: int
    warnings: list[ClosureWarning]

    @property
    def can_close(self) -> bool:
        return not self.blockers

    @property
    def forfeits_anything(self) -> bool:
        return self.gift_card_balance > 0 or self.points > 0


def check(customer: Customer) -> ClosureCheck:
    """What closing the account would meet: blockers, forfeits, warnings (a read; six queries)."""
    by_code: dict[str, list[str]] = {"unshipped_orders": [], "pending_payment": []}
    open_orders = (Order.objects.filter(customer=customer, status__in=(*UNSHIPPED_STATUSES, S.PENDING_PAYMENT))
                   .order_by("placed_at", "id").values_list("number", "status"))
    for number, status in open_orders:
        by_code["pending_payment" if status == S.PENDING_PAYMENT else "unshipped_orders"].append(number)
    by_code["pending_refunds"] = sorted(set(
        Refund.objects.filter(order__customer=customer, status__in=PENDING_REFUND_STATUSES)
        .values_list("order__number", flat=True)))
    reports = list(Report.objects.filter(customer=customer, status__in=OPEN_REPORT_STATUSES)
                   .values_list("pk", "orders__number"))
    if reports:
        by_code["open_report"] = sorted({number for _, number in reports if number})
    blockers = [Blocker(code, BLOCKER_MESSAGES[code], numbers) for code, numbers in by_code.items()
                if numbers or code == "open_report"]
    gift = GiftCardAccount.objects.filter(customer=customer).values_list("balance", flat=True).first() or 0
    pts = PointsAccount.objects.filter(customer=customer).values_list("balance", flat=True).first() or 0
    # Receipts (issue 18): the receipts app says which paid orders could still get one.
    receipt = receipt_services.closure_warning(customer)
    receipts_message = WARNING_MESSAGES["receipts_unavailable"]
    if receipt is not None:
        receipts_message += f"（領収書を発行できるご注文：{'、'.join(receipt.order_numbers[:10])}" + (
            " ほか）" if len(receipt.order_numbers) > 10 else "）")
    warnings = [ClosureWarning("receipts_unavailable", receipts_message)]
    if Order.objects.filter(customer=customer, is_digital=True, status=S.DELIVERED).exists():
        warnings.append(ClosureWarning("digital_content_unavailable", WARNING_MESSAGES["digital_content_unavailable"]))
    if customer.prime:
        warnings.append(ClosureWarning("prime_membership_ends", WARNING_MESSAGES["prime_membership_ends"]))
    if gift or pts:
        warnings.append(ClosureWarning("balances_not_transferable", WARNING_MESSAGES["balances_not_transferable"]))
    return ClosureCheck(blockers=blockers, gift_card_balance=gift, points=pts, warnings=warnings)


def books_retained_until(closed_at: datetime) -> date:
    """The closing date (JST) + ``BOOKS_RETENTION_YEARS`` (29 February → 28 February)."""
    day = local(closed_at).date()
    year = day.year + settings.BOOKS_RETENTION_YEARS
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def close(customer: Customer, *, confirm_forfeit: bool, actor: str) -> CustomerClosure:
    """Close the account: 409 ``closure_blocked`` (with every blocker in ``reasons``) while one
    stands; 400 ``confirmation_required`` unless the forfeit is confirmed when something would be
    lost. Then forfeit both balances with ledger entries, revoke the sessions, mark it closed
    (every endpoint of its external id answers 410 from the commit) and leave the erasure to the job.
    ``actor`` is stored by its label (``str(actor)``)."""
    with transaction.atomic():
        customer = customers.lock_open(customer)  # orders and charges take this lock too
        plan = check(customer)
        if plan.blockers:
            raise Conflict("退会できない理由があります：%(reasons)s",
                           params={"reasons": join_lazy([b.message for b in plan.blockers], " ")},
                           code="closure_blocked", reasons=[b.code for b in plan.blockers])
        if plan.forfeits_anything and confirm_forfeit is not True:
            raise InvalidInput(
                "ギフト券残高 %(balance)s円 と %(points)sポイント が失効します。"
                "失効に同意する場合は confirm_forfeit に true を指定してください。",
                params={"balance": f"{plan.gift_card_balance:,}", "points": f"{plan.points:,}"},
                code="confirmation_required", field="confirm_forfeit")
        at = now()
        closure = CustomerClosure.objects.create(customer=customer, closed_at=at, actor=str(actor)[:100],
                                                 books_retained_until=books_retained_until(at))
        reference = f"closure:{closure.pk}"
        closure.forfeited_gift_card = giftcards.forfeit(customer=customer, reference=reference)
        closure.forfeited_points = points.forfeit(customer=customer, reference=reference, actor=actor)
        closure.save(update_fields=["forfeited_gift_card", "forfeited_points"])
        Customer.objects.filter(pk=customer.pk).update(closed_at=at)
        customer.closed_at = at
        accounts.revoke_sessions(customer, actor=actor, cause=SessionRevocation.Cause.CLOSURE)
    return closure
