"""Customers, sellers, listings, orders, shipments, messages and call-back requests (SPEC §2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backoffice.actors import ActorKind
from backoffice.timeutil import stamp
from shop.tax import TaxRate


class Customer(models.Model):
    """A storefront customer (お客様), created/updated by ``external_id``. Never logs in here."""

    external_id = models.CharField("外部ID", max_length=64, unique=True)
    email = models.EmailField("メールアドレス", max_length=254, db_index=True)
    name = models.CharField("氏名", max_length=100)
    phone = models.CharField("電話番号", max_length=16, blank=True, db_index=True)
    suspended = models.BooleanField("利用停止", default=False)
    suspended_reason = models.CharField("停止理由", max_length=500, blank=True)
    # Sessions whose epoch is lower than this are revoked; the storefront checks it (SPEC §5).
    session_epoch = models.PositiveIntegerField("セッション世代", default=0)
    # Prime membership (プライム会員): a gift-card charge earns the Prime points rate (seed 003).
    prime = models.BooleanField("プライム会員", default=False)
    # Set once by the closure (退会, shop.services.closure): from then on every endpoint of the
    # external id answers 410 ``customer_closed``; the erasure job blanks the personal data.
    closed_at = models.DateTimeField("退会日時", null=True, blank=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "顧客"

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class Seller(models.Model):
    """A marketplace seller (出品者). Both switches are off for a new seller (API.md)."""

    name = models.CharField("名前", max_length=100)
    accept_cod_self_fulfilled = models.BooleanField("自己発送で代引きを受け付ける", default=False)
    accept_konbini_self_fulfilled = models.BooleanField("自己発送でコンビニ払いを受け付ける", default=False)
    # Support closed the account (seed 003: a request to テクニカルサポート, never a button).
    closed_at = models.DateTimeField("閉鎖日時", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "出品者"

    def __str__(self) -> str:
        return self.name


class Listing(models.Model):
    class FulfilledBy(models.TextChoices):
        PLATFORM = "platform", "当社倉庫から発送"  # seed 003「Amazonが発送する商品」
        SELLER = "seller", "出品者から発送"  # 自己発送

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="listings", verbose_name="出品者")
    sku = models.CharField("SKU", max_length=64, unique=True)
    title = models.CharField("商品名", max_length=200)
    price = models.PositiveIntegerField("価格（円）")
    stock = models.PositiveIntegerField("在庫")
    fulfilled_by = models.CharField("発送元", max_length=10, choices=FulfilledBy.choices)
    digital = models.BooleanField("デジタル商品", default=False)
    # False once the seller's account is closed: the listing can no longer be ordered.
    visible = models.BooleanField("公開", default=True)
    # 消費税率: 10 (standard) or 8 (reduced: food and drink, not alcohol); prices include it.
    tax_rate = models.PositiveSmallIntegerField("税率（%）", choices=TaxRate.choices, default=TaxRate.STANDARD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "出品"
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="listing_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=1), name="listing_price_positive"),
            models.CheckConstraint(condition=Q(tax_rate__in=TaxRate.values), name="listing_tax_rate_known"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}"


class OrderStatus(models.TextChoices):
    ON_HOLD = "on_hold", "保留（審査中）"
    PENDING_PAYMENT = "pending_payment", "支払い待ち"
    PROCESSING = "processing", "発送準備中"
    SHIPPED = "shipped", "発送済み"
    READY_FOR_PICKUP = "ready_for_pickup", "受取可能"
    DELIVERED = "delivered", "配達完了"
    CANCELLED = "cancelled", "キャンセル"


class CancellationReason(models.TextChoices):
    CUSTOMER_REQUEST = "customer_request", "お客様都合"
    PAYMENT_EXPIRED = "payment_expired", "支払い期限切れ"
    PICKUP_EXPIRED = "pickup_expired", "受取期限切れ"
    COD_REFUSED = "cod_refused", "代引き受取拒否"
    RETURNED = "returned", "返送"
    UNAUTHORIZED_ORDER = "unauthorized_order", "身に覚えのない注文"
    SELLER_CANCELLED = "seller_cancelled", "出品者によるキャンセル"
    SUPPORT = "support", "サポートによるキャンセル"
    RISK_REJECTED = "risk_rejected", "審査により却下"
    PAYMENT_FAILED = "payment_failed", "カード決済不成立"  # declined, or the gateway did not answer


class ShippingSpeed(models.TextChoices):
    STANDARD = "standard", "通常配送"
    EXPRESS = "express", "お急ぎ便"
    SCHEDULED = "scheduled", "お届け日時指定便"


class PaymentMethod(models.TextChoices):
    CARD = "card", "クレジットカード"
    GIFT_CARD = "gift_card", "ギフト券"
    KONBINI = "konbini", "コンビニ払い"
    COD = "cod", "代金引換"


class DestinationType(models.TextChoices):
    HOME = "home", "自宅"
    PICKUP_STORE = "pickup_store", "コンビニ受取"


class Order(models.Model):
    number = models.CharField("注文番号", max_length=19, unique=True)  # NNN-NNNNNNN-NNNNNNN (seed 001)
    # Indexed by ``order_customer_recent`` and ``order_seller_recent`` (which lead with them): every
    # index an order has is written again when a sweep changes its status, so none is redundant.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name="顧客",
                                 db_index=False)
    # Who ships it: null = the platform's warehouse; else the seller of self-fulfilled lines.
    fulfilling_seller = models.ForeignKey(
        Seller, null=True, blank=True, on_delete=models.PROTECT, related_name="orders", verbose_name="発送出品者",
        db_index=False,
    )
    status = models.CharField("状態", max_length=20, choices=OrderStatus.choices)
    cancellation_reason = models.CharField(
        "キャンセル理由", max_length=20, choices=CancellationReason.choices, blank=True
    )
    total = models.PositiveIntegerField("合計（円）")
    shipping_speed = models.CharField("配送方法", max_length=10, choices=ShippingSpeed.choices)
    payment_method = models.CharField("支払い方法", max_length=10, choices=PaymentMethod.choices)
    is_digital = models.BooleanField("デジタル注文", default=False)
    destination_type = models.CharField("配送先種別", max_length=12, choices=DestinationType.choices)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    prefecture = models.CharField("都道府県", max_length=10, blank=True)
    city = models.CharField("市区町村", max_length=100, blank=True)
    address_line = models.CharField("住所", max_length=200, blank=True)
    recipient_name = models.CharField("受取人", max_length=100, blank=True)
    recipient_phone = models.CharField("受取人電話番号", max_length=16, blank=True)
    address_key = models.CharField("正規化住所キー", max_length=300, blank=True)  # index ``order_address_customer``
    pickup_store = models.ForeignKey(
        "pickup.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="orders", verbose_name="受取店舗"
    )
    risk_score = models.PositiveSmallIntegerField("リスクスコア", default=0)
    risk_rules = models.JSONField("該当ルール", default=list, blank=True)
    placed_at = models.DateTimeField("注文日時", db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "注文"
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["customer", "-placed_at"], name="order_customer_recent"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            models.Index(fields=["fulfilling_seller", "-placed_at"], name="order_seller_recent"),
            # Equality only (no LIKE): a plain index, without the ``_like`` twin ``db_index`` adds.
            # With the customer: risk screening's "has this customer ordered to this address" is one
            # probe however many orders share the address (a building, a drop address: by the
            # address alone it read all of them, 0.5 ms per 9,000 — issue 16), and the address's
            # own lookups use its first column.
            models.Index(fields=["address_key", "customer"], name="order_address_customer"),
            # The review queue in its order (``fraud.services.review.held_orders``): a page of it
            # reads 50 rows, not every held order joined and sorted; held orders only, so the
            # sweeps' status changes of other orders do not touch it.
            models.Index(fields=["-risk_score", "placed_at", "id"], name="order_review_queue",
                         condition=Q(status="on_hold")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(cancellation_reason=""), name="order_reason_only_when_cancelled"
            ),
            models.CheckConstraint(
                condition=~Q(destination_type="pickup_store") | Q(pickup_store__isnull=False),
                name="order_pickup_has_store",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField("商品名", max_length=200)
    quantity = models.PositiveIntegerField("数量")
    unit_price = models.PositiveIntegerField("単価（円）")
    digital = models.BooleanField(default=False)
    # The listing's rate when the order was placed: a later change of the listing never rewrites
    # what a receipt (qualified invoice) of this order states.
    tax_rate = models.PositiveSmallIntegerField("税率（%）", choices=TaxRate.choices, default=TaxRate.STANDARD)

    class Meta:
        verbose_name = verbose_name_plural = "注文明細"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(tax_rate__in=TaxRate.values), name="orderline_tax_rate_known"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.title} ×{self.quantity}"

    @property
    def subtotal(self) -> int:
        return self.quantity * self.unit_price


class OrderEvent(models.Model):
    """One entry of an order's timeline: who/what, when, from→to, why (SPEC §1).

    Typed (Saleor's ``OrderEvents``, Django's ``LogEntry``): ``kind`` is one of ``Kind``, its
    details are structured ``params`` turned into words when read (``shop.events.describe``, so
    English works), the actor is a kind plus a staff user or partner reference. ``note`` holds
    only what a person typed; each kind is built by one function of ``shop/events.py``."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("注文受付")
        STATUS_CHANGED = "status_changed", _("状態変更")
        RISK_ASSESSED = "risk_assessed", _("リスク審査")
        KONBINI_CODE_ISSUED = "konbini_code_issued", _("お支払い番号発行")
        KONBINI_CODE_VOIDED = "konbini_code_voided", _("お支払い番号無効化")
        REFUND_REQUESTED = "refund_requested", _("返金受付")
        REFUND_PROCESSING = "refund_processing", _("返金処理中")
        REFUND_AWAITING_TRANSFER = "refund_awaiting_transfer", _("振込待ち")
        REFUND_BATCHED = "refund_batched", _("振込データ作成")
        REFUND_UNBATCHED = "refund_unbatched", _("振込データから除外")
        REFUND_RETRY_SCHEDULED = "refund_retry_scheduled", _("返金再試行予定")
        REFUND_RETRIED = "refund_retried", _("返金再試行")
        REFUND_SUCCEEDED = "refund_succeeded", _("返金完了")
        REFUND_FAILED = "refund_failed", _("返金失敗")
        PICKUP_NOTICE_SENT = "pickup_notice_sent", _("受取のお知らせ送信")
        PICKUP_NOTICE_RESENT = "pickup_notice_resent", _("受取のお知らせ再送")
        PICKUP_REMINDER_SENT = "pickup_reminder_sent", _("受取期限のお知らせ送信")
        PICKUP_LOCKED = "pickup_locked", _("受取端末ロック")
        PICKUP_UNLOCKED = "pickup_unlocked", _("受取ロック解除")
        PICKUP_ARRIVAL_IGNORED = "pickup_arrival_ignored", _("店舗到着（対象外）")
        PARCEL_RETURNED = "parcel_returned", _("返送")
        # Konbini settlement (issue 14): the final report (確報), the register's void (速報取消), finance's cases.
        KONBINI_SETTLED = "konbini_settled", _("確報（入金確定）")
        KONBINI_SETTLEMENT_REVERSED = "konbini_settlement_reversed", _("確報の訂正（入金確定の取消）")
        KONBINI_PRELIMINARY_CANCELLED = "konbini_preliminary_cancelled", _("速報取消")
        SETTLEMENT_CASE_OPENED = "settlement_case_opened", _("入金照合の確認事項")
        SETTLEMENT_CASE_RESOLVED = "settlement_case_resolved", _("入金照合の確認事項に対応")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("日時")  # read per order (order_id index), never by time alone
    kind = models.CharField("種別", max_length=40, choices=Kind.choices)
    from_status = models.CharField("変更前", max_length=20, blank=True)
    to_status = models.CharField("変更後", max_length=20, blank=True)
    params = models.JSONField("詳細", default=dict, blank=True)
    actor = models.CharField("実行者", max_length=100)  # the actor's label (backoffice.actors), kept if the user goes
    actor_kind = models.CharField("実行者の種別", max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    # Mostly null (the system acts): partial indexes, so a sweep's thousand system events add no entry.
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="スタッフ", db_index=False)
    actor_partner = models.ForeignKey("backoffice.Partner", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name="APIパートナー", db_index=False)
    note = models.CharField("メモ", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "注文タイムライン"
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["actor_user"], condition=Q(actor_user__isnull=False), name="orderevent_actor_user"),
            models.Index(fields=["actor_partner"], condition=Q(actor_partner__isnull=False),
                         name="orderevent_actor_partner"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.get_kind_display()} {stamp(self.at)}"


class Shipment(models.Model):
    class Carrier(models.TextChoices):
        YAMATO = "yamato", "ヤマト運輸"
        SAGAWA = "sagawa", "佐川急便"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    carrier = models.CharField("配送業者", max_length=10, choices=Carrier.choices)
    tracking_number = models.CharField("伝票番号", max_length=12, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "出荷"

    def __str__(self) -> str:
        return f"{self.order.number} {self.get_carrier_display()} {self.tracking_number}"


class ShipmentEvent(models.Model):
    """A carrier event, as seed 003's tracking table shows it (status, date, time, 担当店名)."""

    class Type(models.TextChoices):
        ACCEPTED = "accepted", "荷物受付"
        SHIPPED = "shipped", "発送"
        IN_TRANSIT = "in_transit", "作業店通過"
        ARRIVED_AT_STORE = "arrived_at_store", "店舗到着"
        DELIVERED = "delivered", "配達完了"
        REFUSED = "refused", "受取拒否"
        RETURNED = "returned", "返送完了"

    # No index of its own: the composite index below leads with this column.
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField("状態", max_length=20, choices=Type.choices)
    occurred_at = models.DateTimeField("日時")
    location = models.CharField("担当店名", max_length=100)
    store_code = models.CharField("店舗コード", max_length=20, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "配送状況"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "type", "occurred_at"], name="shipment_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment.tracking_number} {self.get_type_display()} {stamp(self.occurred_at)}"


class Message(models.Model):
    """A customer message: e-mail plus the message center (seed 003 メッセージセンター)."""

    class Kind(models.TextChoices):
        ORDER_CONFIRMED = "order_confirmed", "注文確認"
        PAYMENT_INSTRUCTIONS = "payment_instructions", "お支払い番号お知らせ"
        PAYMENT_RECEIVED = "payment_received", "お支払い確認"
        PAYMENT_VOIDED = "payment_voided", "お支払い取消のお知らせ"  # issue 14: 速報取消 before shipment
        SHIPPED = "shipped", "発送のお知らせ"
        PICKUP_READY = "pickup_ready", "受取可能のお知らせ"
        PICKUP_REMINDER = "pickup_reminder", "受取期限のお知らせ"
        CANCELLED = "cancelled", "キャンセルのお知らせ"
        REFUND_COMPLETED = "refund_completed", "返金完了のお知らせ"
        NEW_DEVICE_LOGIN = "new_device_login", "新しい端末からのログイン"
        PASSWORD_RESET_REQUIRED = "password_reset_required", "パスワード再設定のお願い"

    # Indexed by ``message_customer_recent``, which leads with it.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages", db_index=False)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField("種別", max_length=30, choices=Kind.choices)
    subject = models.CharField("件名", max_length=200)
    body = models.TextField("本文")
    # Makes "sent once" a database fact: the same cause cannot create a second message
    # (``message_once_per_cause``; a constraint rather than ``unique``, which adds a ``_like`` index too).
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField("作成日時", db_index=True)
    emailed_at = models.DateTimeField("メール送信日時", null=True, blank=True)
    # The outbox relay's bookkeeping (shop/services/messages.py): a bulk batch (an expiry job's
    # cancellations) is sent after the messages people wait for; a failed send is retried with
    # backoff until MESSAGE_MAX_SEND_ATTEMPTS, its error kept for staff.
    bulk = models.BooleanField("一括送信", default=False)
    send_attempts = models.PositiveSmallIntegerField("送信試行回数", default=0)
    next_attempt_at = models.DateTimeField("次回送信予定", null=True, blank=True)
    last_error = models.CharField("最後の送信エラー", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "メッセージ"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="message_customer_recent"),
            # The outbox relay's queue: only unsent messages, so it stays small however many were sent.
            models.Index(fields=["bulk", "created_at", "id"], condition=Q(emailed_at__isnull=True),
                         name="message_unsent"),
        ]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="message_once_per_cause")]

    def __str__(self) -> str:
        order = self.order.number if self.order_id else ""
        return " ".join(filter(None, [order, self.get_kind_display(), stamp(self.created_at)]))


class CallbackRequest(models.Model):
    """「今すぐ電話がほしい」 — a customer asks support to call back (seeds 002, 003)."""

    class Status(models.TextChoices):
        WAITING = "waiting", "対応待ち"
        CLAIMED = "claimed", "対応中"  # issue 17: an agent took it (no two agents call the same customer)
        DONE = "done", "対応済み"

    class Outcome(models.TextChoices):
        REACHED = "reached", "お客様と話せた"
        NO_ANSWER = "no_answer", "不在・留守番電話"
        WRONG_NUMBER = "wrong_number", "番号違い・つながらない"
        RESOLVED_ELSEWHERE = "resolved_elsewhere", "ほかの手段で解決済み"

    # Still in the queue: waiting for an agent, or claimed and not yet closed with an outcome.
    OPEN_STATUSES = (Status.WAITING, Status.CLAIMED)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="callback_requests")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="callback_requests")
    phone = models.CharField("電話番号", max_length=16)
    topic = models.CharField("用件", max_length=200)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField("受付日時", auto_now_add=True)
    claimed_by = models.CharField("担当者", max_length=100, blank=True)
    claimed_at = models.DateTimeField("担当日時", null=True, blank=True)
    handled_by = models.CharField("対応者", max_length=100, blank=True)
    handled_at = models.DateTimeField("対応日時", null=True, blank=True)
    outcome = models.CharField("結果", max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField("結果のメモ", max_length=1000, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "折り返し電話依頼"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="callback_queue"),
            # Waiting and claimed together, oldest first (the queue and the dashboard's ten oldest):
            # one index in that order, where ``callback_queue`` would need both statuses sorted.
            models.Index(fields=["created_at", "id"], name="callback_open_queue",
                         condition=Q(status__in=["waiting", "claimed"])),
        ]

    def __str__(self) -> str:
        return f"折り返し電話 #{self.pk} {self.get_status_display()}（{stamp(self.created_at)}）"


class CustomerClosure(models.Model):
    """A customer's closure (退会) and the log of its erasure: what was forfeited, when the
    personal data was erased and how many rows it blanked. Irreversible: nothing keeps the
    erased values. The books (orders, payments, refunds, ledgers) are kept until
    ``books_retained_until`` (``settings.BOOKS_RETENTION_YEARS``)."""

    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="closure", verbose_name="顧客")
    closed_at = models.DateTimeField("退会日時")
    actor = models.CharField("実行者", max_length=100)
    forfeited_gift_card = models.PositiveIntegerField("失効したギフト券残高（円）", default=0)
    forfeited_points = models.PositiveIntegerField("失効したポイント", default=0)
    books_retained_until = models.DateField("帳簿の保存期限")
    erased_at = models.DateTimeField("個人情報削除日時", null=True, blank=True)
    erased_rows = models.JSONField("削除した件数", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "退会"
        indexes = [models.Index(fields=["closed_at"], condition=Q(erased_at__isnull=True), name="closure_to_erase")]

    def __str__(self) -> str:
        return f"退会 {self.customer.external_id}（{stamp(self.closed_at)}）"


class SellerClosureRequest(models.Model):
    """A seller's request to close its account (出品用アカウントの閉鎖, seed 003): support works
    it from the staff console's queue, ticks the checklist and closes it once no blocker stands."""

    class Status(models.TextChoices):
        OPEN = "open", "対応待ち"
        CLOSED = "closed", "閉鎖済み"

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="closure_requests", verbose_name="出品者")
    phone = models.CharField("電話番号", max_length=16)
    comment = models.TextField("コメント", blank=True)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("受付日時")
    closed_at = models.DateTimeField("閉鎖日時", null=True, blank=True)
    closed_by = models.CharField("閉鎖者", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "出品者アカウント閉鎖依頼"
        ordering = ["created_at", "id"]
        constraints = [
            # One open request per seller: a second POST answers with the one already open.
            models.UniqueConstraint(fields=["seller"], condition=Q(status="open"), name="seller_closure_one_open"),
        ]

    def __str__(self) -> str:
        return f"退店申請 #{self.pk} {self.seller.name}（{self.get_status_display()}）"


class SellerClosureCheck(models.Model):
    """One checklist item support confirmed on a closure request (who, when)."""

    # No index of its own: the composite index below leads with this column.
    request = models.ForeignKey(SellerClosureRequest, on_delete=models.CASCADE, related_name="checks", db_index=False)
    code = models.CharField("項目", max_length=40)
    done_by = models.CharField("確認者", max_length=100)
    done_at = models.DateTimeField("確認日時")

    class Meta:
        verbose_name = verbose_name_plural = "閉鎖依頼のチェック"
        constraints = [models.UniqueConstraint(fields=["request", "code"], name="seller_closure_check_once")]

    def __str__(self) -> str:
        return f"退店申請 #{self.request_id} {self.code}（{self.done_by} {stamp(self.done_at)}）"
