"""Fraud reports, risk rules, login events, address reputation and account actions (SPEC §5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from backoffice.timeutil import stamp
from fraud import rules
from shop.models import Customer, Order


class ReportType(models.TextChoices):
    UNAUTHORIZED_ORDER = "unauthorized_order", "身に覚えのない注文"  # seed 002
    COD_HARASSMENT = "cod_harassment", "代引きの嫌がらせ注文"  # seed 004
    REPEATED_PICKUP_CANCELLATION = "repeated_pickup_cancellation", "コンビニ受取の繰り返しキャンセル"
    RISK_REVIEW = "risk_review", "リスク審査"
    OTHER = "other", "その他"


class ReportStatus(models.TextChoices):
    OPEN = "open", "未対応"
    IN_PROGRESS = "in_progress", "対応中"
    RESOLVED = "resolved", "解決済み"
    DISMISSED = "dismissed", "対応不要"


# A report still being worked on (the queue, linking, the gift-card hold): everything but closed.
OPEN_REPORT_STATUSES = (ReportStatus.OPEN, ReportStatus.IN_PROGRESS)


class ReportPriority(models.IntegerChoices):
    NORMAL = 1, "通常"
    HIGH = 2, "高"


class Report(models.Model):
    """A fraud report (不正報告): filed by the storefront, a seller, the system or staff."""

    type = models.CharField("種別", max_length=30, choices=ReportType.choices)
    status = models.CharField("状態", max_length=12, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    priority = models.PositiveSmallIntegerField("優先度", choices=ReportPriority.choices,
                                                default=ReportPriority.NORMAL)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="fraud_reports", verbose_name="担当者")
    # No index of its own: the composite index below leads with this column.
    customer = models.ForeignKey("shop.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="fraud_reports", verbose_name="顧客", db_index=False)
    seller = models.ForeignKey("shop.Seller", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="fraud_reports", verbose_name="出品者")
    address_key = models.CharField("正規化住所キー", max_length=300, blank=True, db_index=True)
    orders = models.ManyToManyField("shop.Order", blank=True, related_name="fraud_reports", verbose_name="対象注文")
    linked = models.ManyToManyField("self", blank=True, symmetrical=True, verbose_name="関連する報告")
    description = models.TextField("内容", blank=True)
    filed_by = models.CharField("報告者", max_length=100)
    # Set once the secure-account playbook ran (running it again does nothing more).
    secured_at = models.DateTimeField("アカウント保護実行日時", null=True, blank=True)
    # This report froze the customer's gift-card balance; it is released when the report closes.
    gift_card_frozen = models.BooleanField("ギフト券凍結中", default=False)
    created_at = models.DateTimeField("受付日時", db_index=True)
    closed_at = models.DateTimeField("完了日時", null=True, blank=True)
    resolution = models.CharField("対応結果", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "不正報告"
        ordering = ["-priority", "created_at", "id"]
        indexes = [
            models.Index(fields=["status", "-priority", "created_at"], name="fraud_report_queue"),
            models.Index(fields=["customer", "status"], name="fraud_report_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["resolved", "dismissed"]) | Q(closed_at__isnull=True),
                                   name="fraud_report_closed_at_only_when_closed"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REPORT_STATUSES

    @property
    def is_high_priority(self) -> bool:
        return self.priority == ReportPriority.HIGH


class ReportEvent(models.Model):
    """One entry of a report's timeline: every action taken on it, by whom, when."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("日時", db_index=True)
    kind = models.CharField("種別", max_length=40)
    actor = models.CharField("実行者", max_length=100)
    note = models.CharField("内容", max_length=1000, blank=True)
    order = models.ForeignKey("shop.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name="注文")

    class Meta:
        verbose_name = verbose_name_plural = "不正報告タイムライン"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"不正報告 #{self.report_id} {stamp(self.at)} {self.note[:60] or self.kind}"


class ReportCheck(models.Model):
    """A completed checklist item of a report (the list per type is ``rules.CHECKLISTS``)."""

    # No index of its own: the composite index below leads with this column.
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="checks", db_index=False)
    code = models.CharField("項目", max_length=40)
    done_by = models.CharField("実施者", max_length=100)
    done_at = models.DateTimeField("実施日時")

    class Meta:
        verbose_name = verbose_name_plural = "チェックリスト実施記録"
        constraints = [models.UniqueConstraint(fields=["report", "code"], name="fraud_report_check_once")]

    def __str__(self) -> str:
        label = dict(rules.CHECKLISTS.get(self.report.type, [])).get(self.code, self.code)
        return f"{label}（{self.done_by} {stamp(self.done_at)}）"


class RiskRule(models.Model):
    """A named risk rule whose weight staff may edit (SPEC §5). Codes are fixed by the code."""

    code = models.CharField("コード", max_length=40, unique=True)
    description = models.CharField("説明", max_length=200)
    weight = models.PositiveSmallIntegerField("重み（点）")
    enabled = models.BooleanField("有効", default=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "リスクルール"
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(weight__lte=100), name="fraud_rule_weight_le_100")]

    def __str__(self) -> str:
        return f"{self.description}（{self.weight}点）"


class LoginEvent(models.Model):
    """A storefront login (seed 002: support could not see which device logged in)."""

    # No index of its own: the composite index below leads with this column.
    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="login_events",
                                 verbose_name="顧客", db_index=False)
    occurred_at = models.DateTimeField("ログイン日時")
    ip = models.GenericIPAddressField("IPアドレス", null=True, blank=True)  # null once erased (退会)
    user_agent = models.CharField("ユーザーエージェント", max_length=500)
    device_id = models.CharField("端末ID", max_length=128)
    new_device = models.BooleanField("新しい端末", default=False)
    recorded_at = models.DateTimeField("記録日時", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "ログイン履歴"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="fraud_login_customer_recent")]

    def __str__(self) -> str:
        return f"ログイン {stamp(self.occurred_at)} {self.ip or '—'} {self.device_id[:14]}"


class KnownDevice(models.Model):
    """A device seen for a customer; the unique pair makes "new device" a database fact."""

    # No index of its own: the composite index below leads with this column.
    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="known_devices", db_index=False)
    device_id = models.CharField("端末ID", max_length=128)
    first_seen_at = models.DateTimeField("初回ログイン日時")

    class Meta:
        verbose_name = verbose_name_plural = "既知の端末"
        constraints = [models.UniqueConstraint(fields=["customer", "device_id"], name="fraud_device_once")]

    def __str__(self) -> str:
        return f"端末 {self.device_id[:14]}（初回 {stamp(self.first_seen_at)}）"


class AddressReputation(models.Model):
    """What we know about one normalised address (seed 004: harassment COD to addresses)."""

    key = models.CharField("正規化住所キー", max_length=300, unique=True)
    cod_refusals = models.PositiveIntegerField("代引き受取拒否（累計）", default=0)
    last_refusal_at = models.DateTimeField("最後の受取拒否", null=True, blank=True)
    cod_blocked = models.BooleanField("代引き停止中", default=False)
    cod_blocked_at = models.DateTimeField("代引き停止日時", null=True, blank=True)
    # Set when staff blocked COD by hand (issue 17); empty when refusals blocked it.
    cod_blocked_by = models.CharField("代引き停止者", max_length=100, blank=True)
    cod_block_reason = models.CharField("代引き停止理由", max_length=500, blank=True)
    # Refusals before this moment no longer count towards a new block (staff lifted it).
    block_lifted_at = models.DateTimeField("停止解除日時", null=True, blank=True)
    block_lifted_by = models.CharField("停止解除者", max_length=100, blank=True)
    block_lift_reason = models.CharField("停止解除理由", max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "住所の評価"
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.key


class CodRefusal(models.Model):
    """One refused COD parcel at an address (counted in the 90-day window)."""

    address_key = models.CharField("正規化住所キー", max_length=300)
    order = models.OneToOneField("shop.Order", on_delete=models.CASCADE, related_name="cod_refusal")
    refused_at = models.DateTimeField("受取拒否日時")

    class Meta:
        verbose_name = verbose_name_plural = "代引き受取拒否"
        indexes = [models.Index(fields=["address_key", "refused_at"], name="fraud_cod_refusal_window")]

    def __str__(self) -> str:
        return f"代引き受取拒否 {self.order.number}（{stamp(self.refused_at)}）"


class PasswordResetToken(models.Model):
    """A single-use, expiring password-reset token. Only its SHA-256 digest is stored."""

    # No index of its own: the composite index below leads with this column.
    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="password_reset_tokens", db_index=False)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("発行日時")
    expires_at = models.DateTimeField("有効期限")
    used_at = models.DateTimeField("使用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("無効化日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "パスワード再設定トークン"
        indexes = [models.Index(fields=["customer", "used_at"], name="fraud_reset_customer")]

    def __str__(self) -> str:
        return f"パスワード再設定 {stamp(self.created_at)}（期限 {stamp(self.expires_at)}）"


class SessionRevocation(models.Model):
    """One "log out every device" of a customer (the session epoch bumped, seed 002): when, by
    whom and why — the playbook's step (with its report), a suspension or the closure. The
    sessions it ended are the logins since the previous revocation (``staff.selectors``)."""

    class Cause(models.TextChoices):
        PLAYBOOK = "playbook", "アカウント保護（ログインの無効化）"
        SUSPENSION = "suspension", "利用停止"
        CLOSURE = "closure", "退会"

    # No index of its own: the (customer, revoked_at) index leads with this column.
    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="session_revocations",
                                 verbose_name="顧客", db_index=False)
    epoch = models.PositiveIntegerField("無効化後のセッション世代")
    revoked_at = models.DateTimeField("無効化日時")
    actor = models.CharField("実行者", max_length=100)
    cause = models.CharField("理由", max_length=12, choices=Cause.choices)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name="関連する報告")

    class Meta:
        verbose_name = verbose_name_plural = "ログインの無効化"
        ordering = ["-revoked_at", "-id"]
        indexes = [models.Index(fields=["customer", "-revoked_at"], name="fraud_revocation_customer")]

    def __str__(self) -> str:
        return f"{self.get_cause_display()}（セッション世代 {self.epoch}）"


class AccountAction(models.Model):
    """Suspension and reinstatement of a customer, with the reason (audit record)."""

    class Kind(models.TextChoices):
        SUSPEND = "suspend", "利用停止"
        REINSTATE = "reinstate", "利用再開"

    customer = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="account_actions",
                                 verbose_name="顧客")
    kind = models.CharField("操作", max_length=10, choices=Kind.choices)
    reason = models.CharField("理由", max_length=500)
    actor = models.CharField("実行者", max_length=100)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name="関連する報告")
    at = models.DateTimeField("日時")

    class Meta:
        verbose_name = verbose_name_plural = "アカウント停止・再開の記録"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {stamp(self.at)}：{self.reason[:40]}"


class HeldOrder(Order):
    """The review queue (審査待ち): orders on hold, as the admin lists them."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "審査待ちの注文"


class CustomerAccount(Customer):
    """A customer as account security sees it: suspension, sessions, password reset."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "顧客アカウント（利用停止・再開）"
