"""The points ledger (ポイント, seed 003), beside the gift-card ledger: every change is an entry
(earned on a gift-card charge, forfeited at closure, adjusted by staff); balance = sum of entries,
kept in the same transaction and guarded ≥ 0 by the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from backoffice.errors import Conflict, InvalidInput
from backoffice.timeutil import now
from payments.models import GiftCardEntry, PointsAccount, PointsEntry
from payments.services import giftcards
from shop.models import Customer
from shop.services import customers

# Seed 003 (チャージタイプのAmazonギフト券): a charge earns 2% of the amount in points, 2.5% for a
# Prime member (プライム会員). Per mille, so the arithmetic stays in integers; rounded down (API.md).
EARN_PERMILLE: dict[bool, int] = {False: 20, True: 25}


def earned_for(amount: int, *, prime: bool) -> int:
    """Points a charge of ``amount`` yen earns: 2% (Prime 2.5%), rounded down."""
    return amount * EARN_PERMILLE[prime] // 1000


def account_for(customer: Customer, *, lock: bool = False) -> PointsAccount:
    account, _ = PointsAccount.objects.get_or_create(customer=customer)
    if lock:
        account = PointsAccount.objects.select_for_update().get(pk=account.pk)
    return account


def _book(account: PointsAccount, *, kind: str, points: int, reference: str, gift_card_entry=None,
          note: str = "", actor: str = "") -> PointsEntry:
    entry = PointsEntry.objects.create(account=account, kind=kind, points=points, reference=reference,
                                       gift_card_entry=gift_card_entry, note=note[:200], actor=str(actor)[:100],
                                       created_at=now())
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + points)
    account.balance += points
    return entry


@dataclass(frozen=True)
class Charge:
    """What a gift-card charge booked: the gift-card entry, the points it earned, both balances."""

    gift_card_entry: GiftCardEntry
    points_earned: int
    balance: int
    points_balance: int


def charge(*, customer: Customer, amount: int, reference: str) -> Charge:
    """A gift-card charge (チャージ): credit the balance and earn points at the customer's rate,
    once per ``reference`` — a repeated call books nothing and answers with the first charge."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("金額は1円以上の整数で指定してください。", code="invalid_amount", field="amount")
    with transaction.atomic():
        customer = customers.lock_open(customer)  # a closed account takes no money (closure holds this lock)
        gc_entry = giftcards.credit(customer=customer, amount=amount, kind=GiftCardEntry.Kind.CHARGE,
                                    reference=reference)
        account = account_for(customer, lock=True)
        earned = PointsEntry.objects.filter(gift_card_entry=gc_entry).first()
        if earned is None:
            points = earned_for(gc_entry.amount, prime=customer.prime)
            if points:
                earned = _book(account, kind=PointsEntry.Kind.EARN, points=points, reference=f"charge:{reference}",
                               gift_card_entry=gc_entry,
                               note="プライム会員 2.5%" if customer.prime else "通常会員 2%")
        balance = giftcards.account_for(customer).balance
    return Charge(gift_card_entry=gc_entry, points_earned=earned.points if earned else 0, balance=balance,
                  points_balance=account.balance)


def forfeit(*, customer: Customer, reference: str, actor: str) -> int:
    """Book the whole balance as lost (退会: points cannot move to a new account, seed 003).
    Returns the points forfeited (0 when there were none). The caller holds the customer lock."""
    account = account_for(customer, lock=True)
    if account.balance <= 0:
        return 0
    lost = account.balance
    _book(account, kind=PointsEntry.Kind.FORFEIT, points=-lost, reference=reference, note="退会による失効",
          actor=actor)
    return lost


def adjust(*, customer: Customer, points: int, reference: str, note: str, actor: str) -> PointsEntry:
    """A staff correction (±), once per ``reference``; never below zero."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidInput("ポイントは0以外の整数で指定してください。", code="invalid_points", field="points")
    if not isinstance(note, str) or not note.strip():
        raise InvalidInput("理由を入力してください。", code="required", field="note")
    with transaction.atomic():
        customer = customers.lock_open(customer)
        account = account_for(customer, lock=True)
        existing = PointsEntry.objects.filter(account=account, kind=PointsEntry.Kind.ADJUSTMENT,
                                              reference=reference).first()
        if existing is not None:
            return existing
        if account.balance + points < 0:
            raise Conflict("ポイント残高（%(balance)s）を超えて減らすことはできません。",
                           params={"balance": f"{account.balance:,}"},
                           code="points_insufficient", field="points")
        try:
            with transaction.atomic():
                return _book(account, kind=PointsEntry.Kind.ADJUSTMENT, points=points, reference=reference,
                             note=note.strip(), actor=actor)
        except IntegrityError as exc:  # the balance constraint: a concurrent debit got there first
            raise Conflict("ポイント残高が不足しています。", code="points_insufficient", field="points") from exc



def recent_entries(account: PointsAccount, *, limit: int = 200) -> list[PointsEntry]:
    """The account's latest ledger entries, newest first (the storefront's points page)."""
    return list(PointsEntry.objects.filter(account=account).order_by("-created_at", "-id")[:limit])
