"""Bank-transfer refunds (SPEC §3, seed 003): the customer's account, the daily Zengin batch,
download by finance and "transferred", which completes the refunds.

A batch's items and file are fixed when it is created (the file is stored, so every download
returns the same bytes); before its first download finance may discard it (its refunds wait for
the next batch), after that it is immutable. A refund is in at most one batch
(``TransferItem.refund`` is one-to-one).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.db import transaction

from backoffice.errors import Conflict, InvalidInput, NotFound
from backoffice.normalize import digits, nfkc
from backoffice.timeutil import local, now
from payments import zengin
from payments.models import BankAccount, Refund, SellerPayoutAccount, TransferBatch, TransferItem
from payments.services import refunds
from shop import events
from shop.models import Customer, Seller

# What people type for 預金種目 → the stored value (API: ordinary | checking; 普通 / 当座 accepted,
# with or without 預金, and the Zengin codes 1 / 2).
_ACCOUNT_TYPES = {
    typed: kind.value
    for kind in BankAccount.AccountType
    for typed in (kind.value, str(kind.label), f"{kind.label}預金", zengin.ACCOUNT_TYPE_CODES[kind.value])
}
# A batch carries at most this many transfers; the next run takes the rest.
MAX_BATCH_SIZE = 5000


def validated_account(*, bank_code: object, branch_code: object, account_type: object, account_number: object,
                      holder_kana: object) -> dict:
    """Every field checked against the Zengin list → the stored fields (names from the list), or 400."""
    bank_code = digits(bank_code, field="bank_code", length=zengin.BANK_CODE_DIGITS, code="invalid_bank_code",
                       message="金融機関コードは%(n)s桁の数字で入力してください。", params={"n": zengin.BANK_CODE_DIGITS})
    if not zengin.bank_exists(bank_code):
        raise InvalidInput("この金融機関コードの銀行は見つかりません。", code="bank_not_found", field="bank_code")
    branch_code = digits(branch_code, field="branch_code", length=zengin.BRANCH_CODE_DIGITS, code="invalid_branch_code",
                         message="支店コードは%(n)s桁の数字で入力してください。", params={"n": zengin.BRANCH_CODE_DIGITS})
    found = zengin.lookup(bank_code, branch_code)
    kind = _ACCOUNT_TYPES.get(nfkc(account_type) if isinstance(account_type, str) else "")
    if kind is None:
        raise InvalidInput("預金種目は ordinary（普通）または checking（当座）で指定してください。",
                           code="invalid_account_type", field="account_type")
    number = digits(account_number, field="account_number", length=zengin.ACCOUNT_NUMBER_DIGITS,
                    code="invalid_account_number",
                    message="口座番号は%(n)s桁の数字で入力してください。", params={"n": zengin.ACCOUNT_NUMBER_DIGITS})
    kana = zengin.holder_kana(holder_kana)
    return {"bank_code": bank_code, "bank_name": found.bank_name, "branch_code": branch_code,
            "branch_name": found.branch_name, "account_type": kind, "account_number": number, "holder_kana": kana}


def account_of(customer: Customer) -> BankAccount | None:
    """The customer's refund bank account, if one is registered."""
    return BankAccount.objects.filter(customer=customer).first()


def set_bank_account(
    *, customer: Customer, bank_code: object, branch_code: object, account_type: object, account_number: object,
    holder_kana: object, use_for_refunds: bool | None = None,
) -> BankAccount:
    """Register or replace the customer's refund account after validating every field against
    the Zengin list; nothing is written on error. ``use_for_refunds`` (the customer's refund
    preference for konbini cash and COD) is left unchanged when None; a new account starts False."""
    fields = validated_account(bank_code=bank_code, branch_code=branch_code, account_type=account_type,
                               account_number=account_number, holder_kana=holder_kana)
    if use_for_refunds is not None and not isinstance(use_for_refunds, bool):
        raise InvalidInput("use_for_refunds は true / false で指定してください。", code="invalid", field="use_for_refunds")
    if use_for_refunds is not None:
        fields["use_for_refunds"] = use_for_refunds
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)  # one writer per customer
        account, _ = BankAccount.objects.update_or_create(customer=customer, defaults=fields)
    return account


def set_payout_account(*, seller: Seller, **account: object) -> SellerPayoutAccount:
    """Register or replace the seller's payout account (seed 003: the last payout needs a valid one)."""
    fields = validated_account(**account)
    with transaction.atomic():
        Seller.objects.select_for_update(no_key=True).get(pk=seller.pk)
        payout, _ = SellerPayoutAccount.objects.update_or_create(seller=seller, defaults=fields)
    return payout


def payout_account_of(seller: Seller) -> SellerPayoutAccount | None:
    """The seller's payout account, if one is registered."""
    return SellerPayoutAccount.objects.filter(seller=seller).first()


def payout_account_valid(seller: Seller) -> bool:
    """The seller has a payout account whose bank and branch are still in the Zengin list."""
    payout = SellerPayoutAccount.objects.filter(seller=seller).first()
    return payout is not None and _branch_exists(payout)


def _branch_exists(payout: SellerPayoutAccount) -> bool:
    try:
        zengin.lookup(payout.bank_code, payout.branch_code)
    except InvalidInput:
        return False
    return True


# --- batches ------------------------------------------------------------------------------------

def next_business_day(day: date) -> date:
    """The transfer date (取組日): the next weekday after ``day`` (bank holidays not modelled)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def create_batch(*, actor: str = "system") -> TransferBatch | None:
    """Put every bank-transfer refund waiting for its transfer into a new batch and build its
    Zengin file. Safe concurrently (``skip_locked``; a refund is one-to-one with its item).
    Returns None when nothing is waiting."""
    with transaction.atomic():
        waiting = list(
            Refund.objects.select_for_update(skip_locked=True, of=("self",)).select_related("order")
            .filter(method=Refund.Method.BANK_TRANSFER, status=Refund.Status.PROCESSING, transfer_item__isnull=True)
            .order_by("pk")[:MAX_BATCH_SIZE]
        )
        # A fresh statement, now that the rows are ours: a batch committed after the query's
        # snapshot but before we got the locks (batching inserts items, it does not update the
        # refund rows, so the lock alone does not show it) already holds some of them.
        taken = set(TransferItem.objects.filter(refund__in=waiting).values_list("refund_id", flat=True))
        waiting = [r for r in waiting if r.pk not in taken]
        accounts = {a.customer_id: a for a in BankAccount.objects.filter(
            customer_id__in={r.order.customer_id for r in waiting})} if waiting else {}
        items = []
        for refund in waiting:
            account = accounts.get(refund.order.customer_id)
            if account is None:  # the account was removed: stays waiting, staff see it
                continue
            items.append(TransferItem(
                refund=refund, amount=refund.amount, bank_code=account.bank_code, branch_code=account.branch_code,
                account_type=account.account_type, account_number=account.account_number,
                holder_kana=account.holder_kana))
        if not items:
            return None
        transfer_date = next_business_day(local(now()).date())
        content = zengin.build_file(transfer_date=transfer_date, transfers=[
            zengin.Transfer(bank_code=i.bank_code, branch_code=i.branch_code, account_type=i.account_type,
                            account_number=i.account_number, holder_kana=i.holder_kana, amount=i.amount,
                            customer_code=str(i.refund.pk)) for i in items])
        batch = TransferBatch.objects.create(
            transfer_date=transfer_date, count=len(items), total=sum(i.amount for i in items), content=content,
            sha256=hashlib.sha256(content).hexdigest())
        for item in items:
            item.batch = batch
        TransferItem.objects.bulk_create(items)
        events.bulk([events.build_refund(order=item.refund.order_id, kind="refund_batched", actor=actor,
                                         refund_id=item.refund.pk, batch=str(batch),
                                         transfer_date=f"{transfer_date:%Y-%m-%d}") for item in items])
    return batch


def download(*, batch_id: int, actor: str) -> tuple[str, bytes]:
    """The batch's file (always the same bytes). The first download marks it ``downloaded``:
    from then on it can only be marked transferred."""
    with transaction.atomic():
        batch = _locked(batch_id, with_content=True)
        if batch.status == TransferBatch.Status.CREATED:
            batch.status, batch.downloaded_at, batch.downloaded_by = TransferBatch.Status.DOWNLOADED, now(), actor
            batch.save(update_fields=["status", "downloaded_at", "downloaded_by"])
    return batch.filename, bytes(batch.content)


def mark_transferred(*, batch_id: int, actor: str) -> TransferBatch:
    """Finance confirms the bank executed the file: every refund of the batch succeeds (its
    timeline and the refund-completed message). Repeating it changes nothing."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status == TransferBatch.Status.TRANSFERRED:
            return batch
        if batch.status != TransferBatch.Status.DOWNLOADED:
            raise Conflict("振込ファイルをダウンロードしてから振込完了にしてください。", code="batch_not_downloaded")
        batch.status, batch.transferred_at, batch.transferred_by = TransferBatch.Status.TRANSFERRED, now(), actor
        batch.save(update_fields=["status", "transferred_at", "transferred_by"])
        refund_ids = list(batch.items.values_list("refund_id", flat=True))
        for refund in (Refund.objects.select_for_update(of=("self",)).select_related("order__customer")
                       .filter(pk__in=refund_ids, status=Refund.Status.PROCESSING).order_by("pk")):
            refunds.complete(refund, actor=actor)
    return batch


def discard(*, batch_id: int, actor: str) -> int:
    """Finance: drop a batch nobody has downloaded yet (e.g. to fix an account first); its refunds
    wait for the next batch. Refused with ``batch_immutable`` once downloaded. Returns how many
    refunds went back to waiting."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status != TransferBatch.Status.CREATED:
            raise Conflict("ダウンロード済みの振込バッチは変更できません。", code="batch_immutable")
        items = list(batch.items.select_related("refund__order"))
        events.bulk([events.build_refund(order=item.refund.order_id, kind="refund_unbatched", actor=actor,
                                         refund_id=item.refund.pk, batch=str(batch)) for item in items])
        batch.items.all().delete()
        batch.delete()
    return len(items)


def _locked(batch_id: int, *, with_content: bool = False) -> TransferBatch:
    """The batch, locked; its file ``content`` is read only when asked for (download)."""
    batches = TransferBatch.objects.select_for_update()
    if not with_content:
        batches = batches.defer("content")
    batch = batches.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("振込バッチが見つかりません。", code="batch_not_found")
    return batch
