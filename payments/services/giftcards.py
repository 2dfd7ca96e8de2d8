"""The gift-card ledger (seed 004): every credit/debit is an entry; balance = sum of entries."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from backoffice.errors import Conflict, InvalidInput
from backoffice.timeutil import now
from payments.models import GiftCardAccount, GiftCardEntry
from shop.models import Customer, Order
from shop.services import customers


def account_for(customer: Customer, *, lock: bool = False) -> GiftCardAccount:
    account, _ = GiftCardAccount.objects.get_or_create(customer=customer)
    if lock:
        account = GiftCardAccount.objects.select_for_update().get(pk=account.pk)
    return account


def _book(account: GiftCardAccount, *, kind: str, amount: int, reference: str, order: Order | None) -> GiftCardEntry:
    entry = GiftCardEntry.objects.create(
        account=account, kind=kind, amount=amount, reference=reference, order=order, created_at=now()
    )
    GiftCardAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    account.balance += amount
    return entry


def credit(*, customer: Customer, amount: int, kind: str, reference: str, order: Order | None = None) -> GiftCardEntry:
    """Add to the balance once per (kind, reference): a repeated call returns the first entry."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:  # True is an int in Python
        raise InvalidInput("金額は1円以上の整数で指定してください。", code="invalid_amount", field="amount")
    with transaction.atomic():
        account = account_for(customer, lock=True)
        existing = GiftCardEntry.objects.filter(account=account, kind=kind, reference=reference).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                return _book(account, kind=kind, amount=amount, reference=reference, order=order)
        except IntegrityError:
            return GiftCardEntry.objects.get(account=account, kind=kind, reference=reference)


def redeem(*, customer: Customer, amount: int, reference: str) -> GiftCardEntry:
    """A redeemed gift card (ギフト券の登録, ``POST .../gift-card/credits``): refused once the account
    is closed — the closure holds the same customer lock while it forfeits the balance."""
    with transaction.atomic():
        customer = customers.lock_open(customer)
        return credit(customer=customer, amount=amount, kind=GiftCardEntry.Kind.PURCHASE, reference=reference)


def spend(*, customer: Customer, amount: int, order: Order) -> GiftCardEntry:
    """Pay ``amount`` for ``order`` from the balance; refused while frozen or short."""
    with transaction.atomic():
        account = account_for(customer, lock=True)
        if account.frozen:
            raise Conflict("ギフト券残高は現在ご利用いただけません。", code="balance_frozen")
        if account.balance < amount:
            raise Conflict("ギフト券残高が不足しています。", code="balance_insufficient")
        return _book(account, kind=GiftCardEntry.Kind.SPEND, amount=-amount, reference=order.number, order=order)


def forfeit(*, customer: Customer, reference: str) -> int:
    """Book the whole balance as lost (退会: it cannot move to a new account, seed 003), frozen or
    not. Returns the yen forfeited (0 when there was none). The caller holds the customer lock."""
    with transaction.atomic():
        account = account_for(customer, lock=True)
        if account.balance <= 0:
            return 0
        lost = account.balance
        _book(account, kind=GiftCardEntry.Kind.FORFEIT, amount=-lost, reference=reference, order=None)
    return lost


def set_frozen(*, customer: Customer, frozen: bool, reason: str = "") -> GiftCardAccount:
    with transaction.atomic():
        account = account_for(customer, lock=True)
        account.frozen = frozen
        account.frozen_reason = reason if frozen else ""
        account.save(update_fields=["frozen", "frozen_reason"])
    return account
