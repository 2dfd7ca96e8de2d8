"""Signed partner webhooks (issue 13): endpoints, events, deliveries.

- ``Endpoint``: a partner's URL and the event types it subscribes to, its signing secret (and the
  previous one during a rotation's grace period) and its circuit breaker;
- ``Event``: one state change of one resource (an order, a konbini payment code), written in the
  transaction of the change (``webhooks.emit``) with the resource's next sequence number;
- ``Delivery``: one event for one endpoint, with the body as that partner reads the resource, its
  attempts and the excerpts of the last request and response. Every attempt is an outbox row
  (``backoffice.outbox``), so a delivery is published like any other task.

Saleor keeps the same three (``Webhook``, ``EventPayload``, ``EventDelivery``/``EventDeliveryAttempt``).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


class Endpoint(models.Model):
    partner = models.ForeignKey("backoffice.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints",
                                verbose_name="パートナー")
    url = models.CharField("URL", max_length=500)
    # " order.paid order.shipped ": space-delimited so that one LIKE finds the subscribers of a type
    # on every database (``events`` reads it as a list).
    event_types = models.CharField("イベント", max_length=400)
    contact_email = models.EmailField("連絡先メール", blank=True)
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_until = models.DateTimeField("旧シークレットの有効期限", null=True, blank=True)
    active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("作成日時")
    deleted_at = models.DateTimeField("削除日時", null=True, blank=True)
    # The circuit breaker (``webhooks.delivery``): failures in a row across the endpoint's
    # deliveries, since when it has failed, until when nothing is sent to it.
    failures_in_a_row = models.PositiveIntegerField("連続失敗回数", default=0)
    failing_since = models.DateTimeField("失敗開始", null=True, blank=True)
    paused_until = models.DateTimeField("送信停止期限", null=True, blank=True)
    disabled_at = models.DateTimeField("自動停止日時", null=True, blank=True)
    disabled_reason = models.CharField("停止理由", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "Webhookエンドポイント"
        indexes = [models.Index(fields=["partner"], condition=Q(deleted_at__isnull=True), name="webhook_ep_live")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    @property
    def events(self) -> list[str]:
        return self.event_types.split()

    @staticmethod
    def event_types_of(types: list[str]) -> str:
        """The stored form: the types space-separated with a space at each end, so one type is
        found by ``LIKE subscribed_pattern(type)`` (``_`` in a type matches itself too; callers
        keep only whole types)."""
        return f" {' '.join(dict.fromkeys(types))} "

    @staticmethod
    def subscribed_pattern(type_: str) -> str:
        return f"% {type_} %"

    @property
    def failing(self) -> bool:
        return self.failures_in_a_row > 0 or self.disabled_at is not None


class ResourceSequence(models.Model):
    """The last sequence number handed out for a resource ("order:12", "payment_code:7")."""

    resource = models.CharField(max_length=60, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.resource}（{self.last}）"


class Event(models.Model):
    class Type(models.TextChoices):
        ORDER_PLACED = "order.placed", "注文受付"
        ORDER_PAID = "order.paid", "支払い完了"
        ORDER_SHIPPED = "order.shipped", "発送"
        ORDER_READY_FOR_PICKUP = "order.ready_for_pickup", "受取可能"
        ORDER_DELIVERED = "order.delivered", "お届け完了"
        ORDER_CANCELLED = "order.cancelled", "キャンセル"
        REFUND_SUCCEEDED = "refund.succeeded", "返金完了"
        REFUND_FAILED = "refund.failed", "返金失敗"
        PAYMENT_CODE_VOIDED = "payment_code.voided", "お支払い番号の無効化"
        PING = "ping", "テスト送信"

    public_id = models.CharField("イベントID", max_length=40, unique=True, default=new_event_id)
    type = models.CharField("種別", max_length=40, choices=Type.choices)
    resource = models.CharField("リソース", max_length=60, blank=True)
    sequence = models.PositiveBigIntegerField("連番", default=0)
    order = models.ForeignKey("shop.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    refund = models.ForeignKey("payments.Refund", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    payment_code = models.ForeignKey("konbini.PaymentCode", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="+")
    # A ping is for one endpoint; every other event goes to every subscriber in scope (fan-out).
    endpoint = models.ForeignKey(Endpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField("発生日時")
    fanned_out_at = models.DateTimeField("配信先決定日時", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "Webhookイベント"
        indexes = [models.Index(fields=["created_at", "id"], condition=Q(fanned_out_at__isnull=True),
                                name="webhook_event_unfanned")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "送信待ち"
        DELIVERED = "delivered", "配信済み"
        FAILED = "failed", "失敗"

    # No index of its own: the composite index below leads with this column.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    # No index of its own: the composite index below leads with this column.
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    body = models.TextField("本文")  # the JSON sent, as this partner reads the resource (fixed at fan-out)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("試行回数", default=0)
    created_at = models.DateTimeField("作成日時")
    # Retries go on until this + RETRY_FOR (a redelivery starts the window again).
    window_started_at = models.DateTimeField("再試行の起点")
    next_attempt_at = models.DateTimeField("次回送信予定", null=True, blank=True)
    last_attempt_at = models.DateTimeField("最終送信日時", null=True, blank=True)
    delivered_at = models.DateTimeField("配信日時", null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField("最終応答コード", null=True, blank=True)
    last_error = models.CharField("最後のエラー", max_length=300, blank=True)
    request_excerpt = models.TextField("リクエスト（抜粋）", blank=True)
    response_excerpt = models.TextField("レスポンス（抜粋）", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "Webhook配信"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_recent"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.event.public_id} → {self.endpoint_id}"
