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
    """A chain's report of cash received at its register (入金記録). The confirmation is the
    preliminary report (速報, ``reported``); the register may void it the same day (速報取消,
    ``cancelled``); the chain's final daily report (確報) settles it (``settled``, issue 14).
    One receipt that is not cancelled per payment and per code, so a repeated or concurrent
    confirmation can never record a second payment; a cancelled one leaves room for the next."""

    class Status(models.TextChoices):
        REPORTED = "reported", "速報"
        CANCELLED = "cancelled", "速報取消"
        SETTLED = "settled", "確報済み"

    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="konbini_receipts",
                                verbose_name="支払い")
    # No plain index: the partial unique index below serves the lookups (codes are never deleted), one
    # index fewer for every confirmation to maintain.
    code = models.ForeignKey(PaymentCode, on_delete=models.PROTECT, related_name="receipts",
                             verbose_name="お支払い番号", db_index=False)
    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES)
    receipt_number = models.CharField("レシート番号", max_length=64)
    store_code = models.CharField("店舗コード", max_length=20)
    amount = models.PositiveIntegerField("入金額（円）")
    paid_at = models.DateTimeField("店頭での支払日時")
    late = models.BooleanField("期限後の猶予内の入金", default=False)
    partner = models.ForeignKey("backoffice.Partner", null=True, blank=True, on_delete=models.SET_NULL,
                                verbose_name="通知したパートナー")
    recorded_at = models.DateTimeField("受信日時")
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.REPORTED)
    # No preliminary report came: the receipt was recorded from the final report's line.
    from_settlement = models.BooleanField("確報から記録", default=False)
    cancelled_at = models.DateTimeField("速報取消日時", null=True, blank=True)
    settled_at = models.DateTimeField("確報日時", null=True, blank=True)
    settlement_date = models.DateField("確報の対象日", null=True, blank=True)
    # No index: read from the line's side (``SettlementLine.receipt``); one index fewer for every
    # confirmation to maintain (the chain's register waits on it).
    settlement_line = models.ForeignKey("konbini.SettlementLine", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", verbose_name="確報の明細", db_index=False)

    class Meta:
        verbose_name = verbose_name_plural = "コンビニ入金記録"
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["chain", "receipt_number"], name="konbini_receipt_number"),
            # The unsettled-preliminaries job and the reconciliation page read the reported ones by day.
            models.Index(fields=["chain", "status", "paid_at"], name="konbini_receipt_by_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["payment"], condition=~Q(status="cancelled"),
                                    name="konbini_one_receipt_per_payment"),
            models.UniqueConstraint(fields=["code"], condition=~Q(status="cancelled"),
                                    name="konbini_one_receipt_per_code"),
            models.CheckConstraint(condition=~Q(status="settled") | Q(settled_at__isnull=False),
                                   name="konbini_receipt_settled_at"),
        ]

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


class SettlementReport(models.Model):
    """One final daily report (確報) of a chain for one sales day, as received (issue 14).

    The same report sent twice is the same row (its ``digest`` of the lines): nothing changes, the
    first answer is replayed. Another report for a day already reconciled is accepted only as a
    correction (訂正): a new row that supersedes the current one, its lines diffed against it."""

    class Source(models.TextChoices):
        API = "api", "API"
        CSV = "csv", "CSVアップロード"

    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES)
    settlement_date = models.DateField("対象日")
    digest = models.CharField("明細のSHA-256", max_length=64)
    line_count = models.PositiveIntegerField("明細数")
    total = models.PositiveBigIntegerField("合計金額（円）")
    source = models.CharField("受信経路", max_length=4, choices=Source.choices)
    partner = models.ForeignKey("backoffice.Partner", null=True, blank=True, on_delete=models.SET_NULL,
                                verbose_name="送信したパートナー")
    actor = models.CharField("受信者", max_length=100)
    received_at = models.DateTimeField("受信日時")
    current = models.BooleanField("最新", default=True)
    correction_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="corrected_by", verbose_name="訂正元")
    # The answer given (replayed for a duplicate) and, for a correction, the diff to the report it replaces.
    result = models.JSONField("照合結果", default=dict)
    diff = models.JSONField("訂正差分", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "コンビニ確報"
        ordering = ["-settlement_date", "chain", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "settlement_date"], condition=Q(current=True),
                                    name="settlement_one_current_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_chain_display()} {self.settlement_date:%Y-%m-%d} 確報#{self.pk}"


class SettlementLine(models.Model):
    """One line of a final report and what matching it against the preliminaries found."""

    class Outcome(models.TextChoices):
        SETTLED = "settled", "照合済み"
        NO_PRELIMINARY = "no_preliminary", "速報なし"
        AMOUNT_DIFFERS = "amount_differs", "金額相違"
        ORDER_CANCELLED = "order_cancelled", "キャンセル済み注文への入金"
        PRELIMINARY_CANCELLED = "preliminary_cancelled", "速報取消済み"

    # No index of its own: the composite index below leads with this column.
    report = models.ForeignKey(SettlementReport, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveIntegerField("行番号")
    payment_number = models.CharField("お支払い番号", max_length=13)
    receipt_number = models.CharField("レシート番号", max_length=64)
    amount = models.PositiveIntegerField("金額（円）")
    paid_at = models.DateTimeField("支払日時")
    outcome = models.CharField("照合結果", max_length=24, choices=Outcome.choices)
    receipt = models.ForeignKey(PaymentReceipt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name="速報")

    class Meta:
        verbose_name = verbose_name_plural = "コンビニ確報の明細"
        ordering = ["report", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["report", "payment_number", "receipt_number"],
                                    name="settlement_line_once_per_report"),
        ]

    def __str__(self) -> str:
        return f"{self.line_no}行目 {self.payment_number} {self.amount:,}円（{self.get_outcome_display()}）"


class SettlementCase(models.Model):
    """Something finance must look at (the reconciliation page's open cases, issue 14): a
    discrepancy of a final report, a preliminary still unsettled after ``KONBINI_SETTLEMENT_DAYS``
    business days, a sale voided after the goods left, a line a correction removed."""

    class Kind(models.TextChoices):
        NO_PRELIMINARY = "no_preliminary", "速報なし"
        AMOUNT_DIFFERS = "amount_differs", "金額相違"
        ORDER_CANCELLED = "order_cancelled", "キャンセル済み注文への入金（返金受付）"
        PRELIMINARY_CANCELLED = "preliminary_cancelled", "速報取消済みの確報"
        UNSETTLED = "unsettled", "確報未着の速報"
        CANCELLED_AFTER_SHIPMENT = "cancelled_after_shipment", "発送後の速報取消"
        CORRECTION_REMOVED = "correction_removed", "訂正で削除された明細"

    class Status(models.TextChoices):
        OPEN = "open", "未対応"
        RESOLVED = "resolved", "対応済み"

    kind = models.CharField("種別", max_length=30, choices=Kind.choices)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.OPEN)
    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES)
    day = models.DateField("対象日")  # the sales day (of the report, or of the preliminary)
    payment_number = models.CharField("お支払い番号", max_length=13, blank=True)
    receipt_number = models.CharField("レシート番号", max_length=64, blank=True)
    amount = models.PositiveIntegerField("金額（円）", default=0)
    expected_amount = models.PositiveIntegerField("請求額（円）", null=True, blank=True)
    order = models.ForeignKey("shop.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              verbose_name="注文")
    receipt = models.ForeignKey(PaymentReceipt, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name="速報")
    line = models.ForeignKey(SettlementLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name="確報の明細")
    refund = models.ForeignKey("payments.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="返金")
    # One case per cause (a job run twice, a report replayed): a database fact.
    dedupe_key = models.CharField(max_length=120, unique=True)
    opened_at = models.DateTimeField("発生日時")
    resolved_at = models.DateTimeField("対応日時", null=True, blank=True)
    resolved_by = models.CharField("対応者", max_length=100, blank=True)
    resolution = models.CharField("対応内容", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "入金照合の確認事項"
        ordering = ["-day", "chain", "id"]
        indexes = [models.Index(fields=["status", "chain", "day"], name="settlement_case_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
