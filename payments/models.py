"""Payments, the gift-card ledger and refunds (SPEC §3)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from shop.models import PaymentMethod


class Payment(models.Model):
    """How an order is paid. Amounts in whole yen; refunds can never exceed what was captured."""

    class Status(models.TextChoices):
        PENDING = "pending", "支払い待ち"  # konbini cash not yet paid, COD not yet collected
        PAID = "paid", "支払い済み"
        VOIDED = "voided", "無効"  # cancelled before any money moved

    order = models.OneToOneField("shop.Order", on_delete=models.PROTECT, related_name="payment")
    method = models.CharField("支払い方法", max_length=10, choices=PaymentMethod.choices)
    amount = models.PositiveIntegerField("請求額（円）")
    status = models.CharField("状態", max_length=10, choices=Status.choices)
    captured_amount = models.PositiveIntegerField("入金額（円）", default=0)
    refunded_amount = models.PositiveIntegerField("返金済み（円）", default=0)
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

    @property
    def refundable(self) -> int:
        return self.captured_amount - self.refunded_amount


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


class GiftCardEntry(models.Model):
    """One ledger line (seed 004: the usage history shows purchases, spends and refunds)."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "ギフト券の登録"
        SPEND = "spend", "ご利用"
        REFUND = "refund", "返金"
        ADJUSTMENT = "adjustment", "調整"

    account = models.ForeignKey(GiftCardAccount, on_delete=models.CASCADE, related_name="entries")
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

    order = models.ForeignKey("shop.Order", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField("返金額（円）")
    method = models.CharField("返金方法", max_length=15, choices=Method.choices)
    status = models.CharField("状態", max_length=12, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField("理由", max_length=40)
    # The cause this refund answers ("cancel", "return:<id>" ...): one refund per cause.
    cause = models.CharField("原因キー", max_length=100)
    attempts = models.PositiveSmallIntegerField("試行回数", default=0)
    last_error = models.CharField("最後のエラー", max_length=300, blank=True)
    gateway_reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField("受付日時", auto_now_add=True)
    completed_at = models.DateTimeField("完了日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "返金"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "cause"], name="refund_once_per_cause"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="refund_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status")]
