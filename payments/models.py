"""Payments, the gift-card ledger and refunds (SPEC §3)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from backoffice.timeutil import stamp
from shop.models import PaymentMethod


class Payment(models.Model):
    """How an order is paid. Amounts in whole yen; refunds can never exceed what was captured."""

    class Status(models.TextChoices):
        PENDING = "pending", "支払い待ち"  # konbini cash not yet paid, COD not yet collected, card capture in flight
        PAID = "paid", "支払い済み"  # a konbini payment: the chain's preliminary report (速報) only
        VOIDED = "voided", "無効"  # cancelled before any money moved
        # Konbini: the chain's final daily report (確報) listed it — the money is the chain's to pay
        # us (issue 14); also konbini cash that arrived for an order already cancelled.
        SETTLED = "settled", "入金確定（確報）"

    order = models.OneToOneField("shop.Order", on_delete=models.PROTECT, related_name="payment")
    method = models.CharField("支払い方法", max_length=10, choices=PaymentMethod.choices)
    amount = models.PositiveIntegerField("請求額（円）")
    status = models.CharField("状態", max_length=10, choices=Status.choices)
    captured_amount = models.PositiveIntegerField("入金額（円）", default=0)
    # What refunds hold, whatever their state (requested, processing, failed awaiting a retry,
    # succeeded): the guard against refunding twice. Not 「返金済み」 — see payments.selectors.
    refunded_amount = models.PositiveIntegerField("返金引当額（円）", default=0)
    # Konbini only: 23:59:59 JST on issue date + KONBINI_PAYMENT_DAYS (seed 003).
    deadline = models.DateTimeField("支払期限", null=True, blank=True, db_index=True)
    gateway_reference = models.CharField("決済参照番号", max_length=64, blank=True)
    paid_at = models.DateTimeField("入金日時", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "支払い"
        constraints = [
            models.CheckConstraint(condition=Q(refunded_amount__lte=F("captured_amount")), name="payment_refund_le_captured"),
            models.CheckConstraint(condition=Q(captured_amount__lte=F("amount")), name="payment_capture_le_amount"),
        ]
        indexes = [models.Index(fields=["method", "status", "deadline"], name="payment_due")]

    def __str__(self) -> str:
        return f"{self.order.number} {self.get_method_display()} {self.amount:,}円（{self.get_status_display()}）"

    @property
    def refundable(self) -> int:
        return self.captured_amount - self.refunded_amount


# The payment statuses in which the money was received (paid, and settled by the 確報).
MONEY_RECEIVED = frozenset({Payment.Status.PAID, Payment.Status.SETTLED})


class GiftCardAccount(models.Model):
    """A customer's gift-card balance (ギフト券残高). ``balance`` is the sum of the ledger,
    kept in the same transaction as every entry and guarded ≥ 0 by the database."""

    customer = models.OneToOneField("shop.Customer", on_delete=models.CASCADE, related_name="gift_card")
    balance = models.IntegerField("残高（円）", default=0)
    frozen = models.BooleanField("凍結", default=False)
    frozen_reason = models.CharField("凍結理由", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "ギフト券残高"
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="giftcard_balance_not_negative")]

    def __str__(self) -> str:
        return f"ギフト券残高 {self.customer.external_id}（{self.balance:,}円）"


class GiftCardEntry(models.Model):
    """One ledger line (seed 004: the usage history shows purchases, spends and refunds)."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "ギフト券の登録"
        CHARGE = "charge", "チャージ"  # seed 003: a charge earns points (payments.services.points)
        SPEND = "spend", "ご利用"
        REFUND = "refund", "返金"
        ADJUSTMENT = "adjustment", "調整"
        FORFEIT = "forfeit", "退会による失効"  # seed 003: lost at closure, never moved

    # No index of its own: the composite index below leads with this column.
    account = models.ForeignKey(GiftCardAccount, on_delete=models.CASCADE, related_name="entries", db_index=False)
    kind = models.CharField("種別", max_length=12, choices=Kind.choices)
    amount = models.IntegerField("金額（円）")  # + credit, − debit
    reference = models.CharField("参照", max_length=100)
    order = models.ForeignKey("shop.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="gift_card_entries")
    created_at = models.DateTimeField("日時", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "ギフト券利用履歴"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A redeemed card, a spend for an order, a refund: each books once.
            models.UniqueConstraint(fields=["account", "kind", "reference"], name="giftcard_entry_once"),
            models.CheckConstraint(condition=~Q(amount=0), name="giftcard_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:,}円（{stamp(self.created_at)}）"


class PointsAccount(models.Model):
    """A customer's points (ポイント, seed 003). Like the gift-card balance, ``balance`` is the sum
    of the ledger, kept in the same transaction as every entry and guarded ≥ 0 by the database."""

    customer = models.OneToOneField("shop.Customer", on_delete=models.CASCADE, related_name="points")
    balance = models.IntegerField("ポイント残高", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "ポイント残高"
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative")]

    def __str__(self) -> str:
        return f"ポイント {self.customer.external_id}（{self.balance:,}pt）"


class PointsEntry(models.Model):
    """One points ledger line: earned on a gift-card charge, forfeited at closure, or adjusted by staff."""

    class Kind(models.TextChoices):
        EARN = "earn", "チャージ特典"
        FORFEIT = "forfeit", "退会による失効"
        ADJUSTMENT = "adjustment", "調整"

    # No index of its own: the composite index below leads with this column.
    account = models.ForeignKey(PointsAccount, on_delete=models.CASCADE, related_name="entries", db_index=False)
    kind = models.CharField("種別", max_length=12, choices=Kind.choices)
    points = models.IntegerField("ポイント")  # + earned, − forfeited/adjusted down
    reference = models.CharField("参照", max_length=100)
    gift_card_entry = models.OneToOneField(GiftCardEntry, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="points_entry")
    note = models.CharField("メモ", max_length=200, blank=True)
    actor = models.CharField("実行者", max_length=100, blank=True)
    created_at = models.DateTimeField("日時", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "ポイント履歴"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "reference"], name="points_entry_once"),
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+,}pt（{stamp(self.created_at)}）"


class Refund(models.Model):
    """Money going back to the customer, exactly once per cause (SPEC §3)."""

    class Method(models.TextChoices):
        CARD = "card", "クレジットカード"
        GIFT_CARD = "gift_card", "ギフト券残高"
        BANK_TRANSFER = "bank_transfer", "銀行振込"

    class Status(models.TextChoices):
        REQUESTED = "requested", "受付"
        PROCESSING = "processing", "処理中"
        SUCCEEDED = "succeeded", "完了"
        FAILED = "failed", "失敗"

    # Looked up by order through the unique (order, cause) index: no index of its own.
    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, related_name="refunds", db_index=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField("返金額（円）")
    method = models.CharField("返金方法", max_length=15, choices=Method.choices)
    status = models.CharField("状態", max_length=12, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField("理由", max_length=40)
    # The cause this refund answers ("cancel", "return:<id>" ...): one refund per cause.
    cause = models.CharField("原因キー", max_length=100)
    attempts = models.PositiveSmallIntegerField("試行回数", default=0)
    last_error = models.CharField("最後のエラー", max_length=300, blank=True)  # the gateway's own text
    # The gateway's error code (``payments.gateway_errors``: the words shown, permanent or not).
    last_error_code = models.CharField("最後のエラーコード", max_length=40, blank=True)
    gateway_reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField("受付日時", auto_now_add=True)
    completed_at = models.DateTimeField("完了日時", null=True, blank=True)
    # Last status change or attempt: the sweep finds refunds stuck in requested/processing by it.
    updated_at = models.DateTimeField("更新日時", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "返金"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "cause"], name="refund_once_per_cause"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="refund_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="refund_status"),
            models.Index(fields=["status", "updated_at"], name="refund_status_updated"),
        ]

    def __str__(self) -> str:
        return f"返金#{self.pk}"


class SandboxGatewayRefund(models.Model):
    """What the sandbox card gateway (the outside party, ``payments.gateway.SandboxGateway``)
    recorded: one row per idempotency key, like a real gateway's refund object. Tests count
    these rows to prove "one gateway refund"."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失敗"

    idempotency_key = models.CharField(max_length=100, unique=True)
    charge_reference = models.CharField(max_length=64)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    calls = models.PositiveSmallIntegerField(default=0)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "サンドボックス決済の返金"

    def __str__(self) -> str:
        return f"サンドボックス返金 {self.idempotency_key}（{self.get_status_display()}）"


class SandboxGatewayCapture(models.Model):
    """A capture the sandbox card gateway recorded: one row per idempotency key, like a real
    gateway's charge. A repeated capture with the same key returns this row's reference and
    moves no money twice; a void marks it ``voided`` (the money goes back). Tests count these
    rows to prove "captured once" and "no money kept for an order that does not exist"."""

    class Status(models.TextChoices):
        CAPTURED = "captured", "売上確定"
        DECLINED = "declined", "承認されず"
        VOIDED = "voided", "取消"

    idempotency_key = models.CharField(max_length=100, unique=True)
    token = models.CharField(max_length=40)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    calls = models.PositiveSmallIntegerField(default=1)
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "サンドボックス決済の売上"

    def __str__(self) -> str:
        return f"サンドボックス決済 {self.idempotency_key}（{self.get_status_display()}）"


class BankAccount(models.Model):
    """The customer's bank account for refunds by bank transfer (SPEC §3), validated against the
    Zengin bank/branch list. ``holder_kana`` is stored half-width, as the transfer file needs it."""

    class AccountType(models.TextChoices):
        ORDINARY = "ordinary", "普通"
        CHECKING = "checking", "当座"

    customer = models.OneToOneField("shop.Customer", on_delete=models.CASCADE, related_name="bank_account",
                                    verbose_name="顧客")
    bank_code = models.CharField("金融機関コード", max_length=4)
    bank_name = models.CharField("金融機関名", max_length=60)
    branch_code = models.CharField("支店コード", max_length=3)
    branch_name = models.CharField("支店名", max_length=60)
    account_type = models.CharField("預金種目", max_length=10, choices=AccountType.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("口座名義（半角カナ）", max_length=30)
    # The customer's refund preference for konbini cash / COD: False = gift-card balance (default).
    use_for_refunds = models.BooleanField("返金をこの口座で受け取る", default=False)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "返金用口座"
        constraints = [
            models.CheckConstraint(condition=Q(bank_code__regex=r"^[0-9]{4}$"), name="bankaccount_bank_code_4"),
            models.CheckConstraint(condition=Q(branch_code__regex=r"^[0-9]{3}$"), name="bankaccount_branch_code_3"),
            models.CheckConstraint(condition=Q(account_number__regex=r"^[0-9]{7}$"), name="bankaccount_number_7"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.branch_name} {self.get_account_type_display()} {self.account_number}"


class SellerPayoutAccount(models.Model):
    """Where a seller's payouts go (seed 003: the last payout needs a valid bank account before
    the account can close). Validated against the Zengin list like a customer's refund account."""

    seller = models.OneToOneField("shop.Seller", on_delete=models.CASCADE, related_name="payout_account",
                                  verbose_name="出品者")
    bank_code = models.CharField("金融機関コード", max_length=4)
    bank_name = models.CharField("金融機関名", max_length=60)
    branch_code = models.CharField("支店コード", max_length=3)
    branch_name = models.CharField("支店名", max_length=60)
    account_type = models.CharField("預金種目", max_length=10, choices=BankAccount.AccountType.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("口座名義（半角カナ）", max_length=30)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "出品者の入金口座"

    def __str__(self) -> str:
        return f"{self.seller.name} の振込先（{self.bank_name} {self.branch_name}）"


class Return(models.Model):
    """A return of delivered goods (返品): one refund cause, by lines and quantities or an amount."""

    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, related_name="returns", verbose_name="注文")
    # The caller's reference (e.g. an RMA number): the same reference is one return (a second click).
    reference = models.CharField("返品受付番号", max_length=64, blank=True)
    amount = models.PositiveIntegerField("返金額（円）")
    refund = models.OneToOneField(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="return_request")
    actor = models.CharField("受付者", max_length=100)
    created_at = models.DateTimeField("受付日時", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "返品"
        constraints = [
            models.UniqueConstraint(fields=["order", "reference"], condition=~Q(reference=""), name="return_once_per_reference"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="return_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"返品 {self.reference}（注文 {self.order.number}・{self.amount:,}円）"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("shop.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField("数量")

    class Meta:
        verbose_name = verbose_name_plural = "返品明細"
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="returnline_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_line.title} ×{self.quantity}"


class TransferBatch(models.Model):
    """One Zengin 総合振込 file of bank-transfer refunds. Its items and file are fixed when it is
    created; finance downloads it (→ ``downloaded``, immutable from then on: it can no longer be
    discarded) and marks it ``transferred``."""

    class Status(models.TextChoices):
        CREATED = "created", "作成済み"
        DOWNLOADED = "downloaded", "ダウンロード済み"
        TRANSFERRED = "transferred", "振込完了"

    status = models.CharField("状態", max_length=12, choices=Status.choices, default=Status.CREATED)
    transfer_date = models.DateField("振込指定日")
    count = models.PositiveIntegerField("件数")
    total = models.PositiveBigIntegerField("合計金額（円）")
    content = models.BinaryField("振込ファイル")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    downloaded_at = models.DateTimeField("ダウンロード日時", null=True, blank=True)
    downloaded_by = models.CharField("ダウンロード者", max_length=100, blank=True)
    transferred_at = models.DateTimeField("振込完了日時", null=True, blank=True)
    transferred_by = models.CharField("振込完了登録者", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "振込バッチ"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1) & Q(total__gte=1), name="transferbatch_not_empty"),
            models.CheckConstraint(condition=~Q(status="transferred") | Q(downloaded_at__isnull=False),
                                   name="transferbatch_transferred_after_download"),
        ]

    def __str__(self) -> str:
        return f"振込バッチ#{self.pk}"

    @property
    def filename(self) -> str:
        return f"zengin_sogo_furikomi_{self.pk:06d}_{self.transfer_date:%Y%m%d}.txt"


class TransferItem(models.Model):
    """One data record (2) of a batch: a snapshot of the account at batching time. ``refund`` is
    one-to-one, so a refund is in at most one batch (a database fact)."""

    batch = models.ForeignKey(TransferBatch, on_delete=models.PROTECT, related_name="items")
    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="transfer_item")
    amount = models.PositiveIntegerField("振込金額（円）")
    bank_code = models.CharField("金融機関コード", max_length=4)
    branch_code = models.CharField("支店コード", max_length=3)
    account_type = models.CharField("預金種目", max_length=10, choices=BankAccount.AccountType.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("受取人名（半角カナ）", max_length=30)

    class Meta:
        verbose_name = verbose_name_plural = "振込明細"
        ordering = ["batch", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="transferitem_amount_positive")]

    def __str__(self) -> str:
        return f"振込 返金#{self.refund_id} {self.amount:,}円"


class FailedRefund(Refund):
    """The failed-refunds queue (staff retry from here)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "返金失敗キュー"
