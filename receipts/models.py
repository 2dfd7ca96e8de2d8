"""Receipts that are qualified invoices (領収書 / 適格請求書, API.md).

One ``Receipt`` per order carries the receipt number; every time it is handed out — the first
time as the original, every later time marked 「再発行」 — a ``ReceiptIssue`` records when, to
whom (the addressee, 宛名), by whom (the storefront or a staff user) and exactly what was issued.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from backoffice.timeutil import stamp

# A receipt's number: "R" and its ten-digit serial (the row's id). Numbers are never reused; a
# gap (a rolled-back transaction) is allowed — the invoice system asks for a document number
# that identifies it, not for an unbroken sequence.
RECEIPT_NUMBER_FORMAT = "R{:010d}"


class Receipt(models.Model):
    order = models.OneToOneField("shop.Order", on_delete=models.PROTECT, related_name="receipt", verbose_name="注文")
    number = models.CharField("領収書番号", max_length=20, unique=True, null=True, blank=True)
    issue_count = models.PositiveIntegerField("発行回数", default=0)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "領収書"

    def __str__(self) -> str:
        return self.number or f"領収書#{self.pk}"


class ReceiptIssue(models.Model):
    """One handing-out of a receipt: ``sequence`` 1 is the original, 2 and later are 再発行."""

    class Channel(models.TextChoices):
        STOREFRONT = "storefront", "ストア（お客様）"
        STAFF = "staff", "スタッフ"

    # No index of its own: the composite index below leads with this column.
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="issues", verbose_name="領収書", db_index=False)
    sequence = models.PositiveIntegerField("発行回")
    issued_at = models.DateTimeField("発行日時", db_index=True)
    addressee = models.CharField("宛名", max_length=120)
    purpose = models.CharField("但し書き", max_length=40)
    channel = models.CharField("発行経路", max_length=12, choices=Channel.choices)
    actor = models.CharField("発行者", max_length=100)
    # The document as issued (receipts.document.as_json): a later re-print shows what was given.
    content = models.JSONField("発行内容")

    class Meta:
        verbose_name = verbose_name_plural = "領収書の発行履歴"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "sequence"], name="receiptissue_once_per_sequence"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="receiptissue_sequence_positive"),
        ]

    def __str__(self) -> str:
        kind = "原本" if self.sequence == 1 else f"再発行{self.sequence - 1}"
        return f"{self.receipt.number} {kind}（{stamp(self.issued_at)}）"

    @property
    def reissue(self) -> bool:
        return self.sequence > 1
