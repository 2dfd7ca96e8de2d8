"""Konbini payment codes and the chains' payment receipts (SPEC §3, seed 003)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from payments.konbini.chains import CHAIN_CHOICES, CHAINS
from payments.models import Payment
from shop.models import PaymentMethod


class PaymentCode(models.Model):
    """A payment number (お支払い番号 / 払込票番号 / オンライン決済番号) for one chain.

    The customer picks a chain and gets a code; picking another chain voids it. A number is
    unique among the chain's live codes (and paid ones, so that a repeated confirmation of a
    paid number can never hit a newer code) — a voided number may be drawn again.
    """

    class Status(models.TextChoices):
        LIVE = "live", "有効"
        VOID = "void", "無効"
        PAID = "paid", "支払い済み"

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="konbini_codes",
                                verbose_name="支払い")
    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES)
    number = models.CharField("お支払い番号", max_length=13)
    check_code = models.CharField("確認番号", max_length=4, blank=True)
    status = models.CharField("状態", max_length=4, choices=Status.choices, default=Status.LIVE)
    created_at = models.DateTimeField("発行日時")
    voided_at = models.DateTimeField("無効化日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "コンビニお支払い番号"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "number"], condition=~Q(status="void"),
                                    name="konbini_code_unique_live_per_chain"),
            models.UniqueConstraint(fields=["payment"], condition=Q(status="live"),
                                    name="konbini_one_live_code_per_payment"),
            models.UniqueConstraint(fields=["payment"], condition=Q(status="paid"),
                                    name="konbini_one_paid_code_per_payment"),
        ]
        indexes = [models.Index(fields=["chain", "number"], name="konbini_code_lookup")]

    def __str__(self) -> str:
        return f"{self.get_chain_display()} {self.number}"

    @property
    def chain_info(self):
        return CHAINS[self.chain]


class PaymentReceipt(models.Model):
    """A chain's confirmation of cash received (入金記録): one per payment, so a repeated or
    concurrent confirmation can never record a second payment."""

    payment = models.OneToOneField("payments.Payment", on_delete=models.PROTECT, related_name="konbini_receipt",
                                   verbose_name="支払い")
    code = models.OneToOneField(PaymentCode, on_delete=models.PROTECT, related_name="receipt",
                                verbose_name="お支払い番号")
    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES)
    receipt_number = models.CharField("レシート番号", max_length=64)
    store_code = models.CharField("店舗コード", max_length=20)
    amount = models.PositiveIntegerField("入金額（円）")
    paid_at = models.DateTimeField("店頭での支払日時")
    late = models.BooleanField("期限後の猶予内の入金", default=False)
    partner = models.ForeignKey("backoffice.Partner", null=True, blank=True, on_delete=models.SET_NULL,
                                verbose_name="通知したパートナー")
    recorded_at = models.DateTimeField("受信日時")

    class Meta:
        verbose_name = verbose_name_plural = "コンビニ入金記録"
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["chain", "receipt_number"], name="konbini_receipt_number")]

    def __str__(self) -> str:
        return f"{self.get_chain_display()} {self.receipt_number}"


class KonbiniPaymentManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(method=PaymentMethod.KONBINI)


class KonbiniPaymentRequest(Payment):
    """The konbini payment request (お支払い請求) of an order, as staff see it in the admin."""

    objects = KonbiniPaymentManager()

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "コンビニ支払い請求"
