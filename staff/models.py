"""What the console itself keeps: internal notes on records and the staff activity log (issue 17:
a night shift hands over to the morning shift through these)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TargetKind(models.TextChoices):
    """The records a note or an activity can be about."""

    ORDER = "order", "注文"
    CUSTOMER = "customer", "お客様"
    REPORT = "report", "不正報告"
    CALLBACK = "callbackrequest", "折り返し電話"
    REFUND = "refund", "返金"
    TRANSFER_BATCH = "transferbatch", "振込バッチ"
    SELLER = "seller", "出品者"
    SELLER_CLOSURE = "sellerclosurerequest", "出品者の閉鎖依頼"
    ADDRESS = "addressreputation", "住所"
    OTHER = "other", "その他"


class Note(models.Model):
    """An internal note: staff only, never shown to the customer."""

    target_kind = models.CharField("対象", max_length=30, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField("対象ID")
    body = models.TextField("内容", max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name="記入者")
    author_name = models.CharField("記入者名", max_length=150)
    created_at = models.DateTimeField("記入日時")

    class Meta:
        verbose_name = verbose_name_plural = "社内メモ"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_kind", "target_id", "-created_at"], name="staff_note_target")]

    def __str__(self) -> str:
        return f"{self.get_target_kind_display()} #{self.target_id}: {self.body[:40]}"


class Activity(models.Model):
    """One thing a staff user did in the console: who, what, when, to which record."""

    at = models.DateTimeField("日時")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name="スタッフ")
    username = models.CharField("スタッフ名", max_length=150)
    action = models.CharField("操作", max_length=40)  # a key of staff.permissions.ACTIONS
    target_kind = models.CharField("対象", max_length=30, choices=TargetKind.choices)
    target_id = models.PositiveBigIntegerField("対象ID", null=True)
    target_label = models.CharField("対象の表示", max_length=300)
    target_url = models.CharField("対象のURL", max_length=300, blank=True)
    summary = models.CharField("結果", max_length=1000, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "スタッフの操作履歴"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at"], name="staff_activity_recent"),
            models.Index(fields=["username", "-at"], name="staff_activity_user"),
            models.Index(fields=["target_kind", "target_id", "-at"], name="staff_activity_target"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.target_label}"
