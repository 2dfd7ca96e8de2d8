"""Konbini pickup (SPEC §4, seeds 000 and 001)."""

from __future__ import annotations

from django.db import models

from backoffice.timeutil import stamp
from payments.konbini.chains import CHAINS

# seed 000/001: コンビニ受取 at Lawson, Ministop and FamilyMart; each chain's terminal (Loppi,
# Famiポート) is the one its row of the chain table names.
PICKUP_CHAINS = {code: CHAINS[code].terminal for code in ("lawson", "ministop", "familymart")}


class Store(models.Model):
    """A pickup store, maintained by its chain through ``PUT /stores/{store_code}``."""

    chain = models.CharField("チェーン", max_length=20, choices=[(c, c) for c in PICKUP_CHAINS])
    code = models.CharField("店舗コード", max_length=20, unique=True)
    name = models.CharField("店舗名", max_length=100)
    prefecture = models.CharField("都道府県", max_length=10)
    address = models.CharField("住所", max_length=200)
    active = models.BooleanField("営業中", default=True)
    # Set when the store's terminal is throttled (429) for failed attempts (pickup.services.throttle);
    # read with the parcel's row on the terminal's hot path, shown to staff.
    throttled_until = models.DateTimeField("端末制限の解除日時", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "受取店舗"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def terminal(self) -> str:
        return PICKUP_CHAINS[self.chain]


class Pickup(models.Model):
    """A parcel waiting at a konbini (コンビニ受取), one per order, created when it arrives.

    The keys are the お問い合わせ番号 (inquiry number = the tracking number) and the 認証番号
    (auth number). They work from arrival (seed 000) until the parcel is picked up, expires or
    the order is cancelled.
    """

    class Status(models.TextChoices):
        READY = "ready", "受取可能"
        PICKED_UP = "picked_up", "受取済み"
        EXPIRED = "expired", "受取期限切れ（返送）"
        CANCELLED = "cancelled", "取消"

    order = models.OneToOneField("shop.Order", on_delete=models.PROTECT, related_name="pickup", verbose_name="注文")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="pickups", verbose_name="受取店舗")
    inquiry_number = models.CharField("お問い合わせ番号", max_length=12, unique=True)
    auth_number = models.CharField("認証番号", max_length=7)
    status = models.CharField("状態", max_length=12, choices=Status.choices, default=Status.READY)
    arrived_at = models.DateTimeField("店舗到着日時")
    notice_due_at = models.DateTimeField("通知予定日時")
    noticed_at = models.DateTimeField("通知日時", null=True, blank=True)
    notice_resent_count = models.PositiveSmallIntegerField("通知再送回数", default=0)
    # 23:59:59 JST on notice date + PICKUP_DAYS; counted from the arrival date until the notice goes out.
    deadline = models.DateTimeField("受取期限")
    reminder_sent_at = models.DateTimeField("リマインド送信日時", null=True, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField("連続失敗回数", default=0)
    locked = models.BooleanField("ロック中", default=False)
    locked_at = models.DateTimeField("ロック日時", null=True, blank=True)
    picked_up_at = models.DateTimeField("受取日時", null=True, blank=True)
    closed_at = models.DateTimeField("終了日時", null=True, blank=True)  # expired (returned) or cancelled

    class Meta:
        verbose_name = verbose_name_plural = "コンビニ受取"
        indexes = [
            # The expiry job walks it as a keyset (deadline, id): each batch starts after the last.
            models.Index(fields=["status", "deadline", "id"], name="pickup_due_keyset"),
            models.Index(fields=["status", "notice_due_at"], name="pickup_notice_due",
                         condition=models.Q(noticed_at__isnull=True)),
            # Locked parcels in the console's order (``staff.selectors.pickups_locked``).
            models.Index(fields=["locked_at", "id"], name="pickup_locked_queue",
                         condition=models.Q(status="ready", locked=True)),
        ]

    def __str__(self) -> str:
        return f"{self.inquiry_number} ({self.get_status_display()})"

    @property
    def terminal(self) -> str:
        return self.store.terminal


class PickupTicket(models.Model):
    """申し込み券: printed by the terminal, redeemed at the register within 30 minutes (seed 001)."""

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="tickets", verbose_name="受取")
    number = models.CharField("申し込み券番号", max_length=13, unique=True)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="tickets", verbose_name="店舗")
    issued_at = models.DateTimeField("発行日時")
    expires_at = models.DateTimeField("有効期限")
    voided_at = models.DateTimeField("無効化日時", null=True, blank=True)
    redeemed_at = models.DateTimeField("引換日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "申し込み券"
        ordering = ["-issued_at", "-id"]
        constraints = [
            # "A new ticket voids the old one": at most one open ticket per parcel, as a database fact.
            models.UniqueConstraint(fields=["pickup"], condition=models.Q(voided_at__isnull=True, redeemed_at__isnull=True),
                                    name="pickup_one_open_ticket"),
        ]

    def __str__(self) -> str:
        return f"受取チケット {self.number}（{stamp(self.issued_at)}）"


class PickupAttempt(models.Model):
    """One try at a terminal (store, time, outcome), kept for staff (SPEC §4 brute force)."""

    class Outcome(models.TextChoices):
        ISSUED = "issued", "申し込み券発行"
        UNKNOWN_NUMBER = "unknown_number", "お問い合わせ番号不明"
        WRONG_AUTH = "wrong_auth", "認証番号誤り"
        WRONG_STORE = "wrong_store", "店舗違い"
        LOCKED = "locked", "ロック中"
        EXPIRED = "expired", "期限切れ・取消済み"
        ALREADY_PICKED_UP = "already_picked_up", "受取済み"
        INVALID_NUMBER = "invalid_number", "番号の形式誤り（カウント対象外）"
        THROTTLED = "throttled", "店舗制限中"

    # Outcomes that count as a failed guess (lockout and store throttle).
    FAILURES = frozenset({Outcome.UNKNOWN_NUMBER, Outcome.WRONG_AUTH, Outcome.WRONG_STORE, Outcome.LOCKED})

    # No index of its own: the composite index below leads with this column.
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="attempts", verbose_name="店舗", db_index=False)
    # No index of its own: the composite index below leads with this column.
    pickup = models.ForeignKey(Pickup, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts",
                               verbose_name="受取", db_index=False)
    inquiry_number = models.CharField("入力されたお問い合わせ番号", max_length=40, blank=True)
    at = models.DateTimeField("日時")
    outcome = models.CharField("結果", max_length=20, choices=Outcome.choices)
    partner = models.CharField("端末（パートナー）", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "受取端末の操作履歴"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["store", "-at"], name="pickup_attempt_store"),
            models.Index(fields=["pickup", "-at"], name="pickup_attempt_pickup"),
        ]

    def __str__(self) -> str:
        return f"{self.store.name} {stamp(self.at)} {self.get_outcome_display()}"


class PickupNoShow(models.Model):
    """A parcel never collected (受取期限切れ). Counted per customer: the 3rd within 365 days
    opens an account-review case (seed 001: repeated cancellations may stop the account)."""

    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="pickup_no_shows",
                                 verbose_name="顧客", db_index=False)  # the (customer, occurred_at) index serves
    order = models.OneToOneField("shop.Order", on_delete=models.CASCADE, related_name="pickup_no_show",
                                 verbose_name="注文")
    occurred_at = models.DateTimeField("日時")
    # Set on the no-show that reached the threshold: the review case it opened.
    review_opened = models.BooleanField("審査ケース起票", default=False)
    review_reference = models.CharField("審査ケース参照", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "受取期限切れ（未受取）"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_at"], name="pickup_noshow_customer")]

    def __str__(self) -> str:
        return f"受取期限切れ {self.order.number}（{stamp(self.occurred_at)}）"
