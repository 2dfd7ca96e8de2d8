"""Partners of the REST API, the Idempotency-Key store, and the staff forms' one-time tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from backoffice.actors import PartnerKind
from backoffice.timeutil import stamp
from payments.konbini.chains import CHAIN_CHOICES
from shop.models import Shipment


class Partner(models.Model):
    """A partner of the API (取引先). Keys are stored as SHA-256 digests, never in clear."""

    Kind = PartnerKind  # defined beside the actors, whose partner labels start with a kind

    name = models.CharField("名前", max_length=100)
    kind = models.CharField("種別", max_length=20, choices=Kind.choices)
    chain = models.CharField("チェーン", max_length=20, choices=CHAIN_CHOICES, blank=True)
    # A carrier partner's identity: the ``carrier`` code of the shipments it may post events for.
    carrier = models.CharField("配送業者コード", max_length=10, choices=Shipment.Carrier.choices, blank=True)
    seller = models.OneToOneField("shop.Seller", null=True, blank=True, on_delete=models.PROTECT, related_name="partner")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField("キー先頭", max_length=8, editable=False)
    active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "APIパートナー"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="konbini_chain") | ~models.Q(chain=""), name="partner_chain_has_code"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="seller") | models.Q(seller__isnull=False), name="partner_seller_has_seller"
            ),
            # An active carrier always has its code; a code only on a carrier. (Carrier keys made
            # before carriers had an identity were deactivated by migration 0002 unless named.)
            models.CheckConstraint(
                condition=models.Q(kind="carrier", carrier__gt="") | models.Q(kind="carrier", active=False)
                | (~models.Q(kind="carrier") & models.Q(carrier="")),
                name="partner_carrier_has_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def issue_key(self) -> str:
        """Give the partner a new random 32-byte key; returns it in clear (shown once)."""
        key = secrets.token_urlsafe(32)
        self.key_digest = self.digest(key)
        self.key_prefix = key[:8]
        return key


class IdempotencyRecord(models.Model):
    """First response to a request carrying an ``Idempotency-Key`` (API.md "Basics")."""

    # No index of its own: the composite index below leads with this column.
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "endpoint", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}（{stamp(self.created_at)}）"


class OutboxTask(models.Model):
    """A Celery task to publish once the transaction that wrote it has committed (the
    transactional outbox, ``backoffice/outbox.py``). A request only writes this row; the relay
    publishes it, so a broker outage delays the work and never fails the request, and a
    rolled-back transaction leaves nothing to publish."""

    task = models.CharField("タスク", max_length=100)
    args = models.JSONField("引数", default=list, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField("作成日時")
    # Not published before this (a countdown, a retry's backoff): the broker never holds an ETA task.
    available_at = models.DateTimeField("公開予定")
    published_at = models.DateTimeField("公開日時", null=True, blank=True)
    # The relay's claim: who holds it (a token per run) and until when; a relay that died with
    # a claim loses it at ``claimed_until`` and the row is published again (at least once).
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("公開試行回数", default=0)
    last_error = models.CharField("最後のエラー", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "送信待ちタスク（アウトボックス）"
        indexes = [
            # The relay's queue: only unpublished rows, so it stays small however many were published.
            models.Index(fields=["available_at", "id"], condition=models.Q(published_at__isnull=True),
                         name="outbox_unpublished"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class WorkerHeartbeat(models.Model):
    """One row per Celery worker (its node name), written by the worker itself
    (``backoffice.heartbeat``) every few seconds while it is connected to the broker. ``/healthz``
    reports ``worker: stale`` when no worker has beaten lately: a worker that died, or one that
    lost its broker, no longer processes refunds and pickup notices."""

    hostname = models.CharField("ワーカー", max_length=200, unique=True)
    pid = models.PositiveIntegerField("プロセスID")
    started_at = models.DateTimeField("起動日時")
    beat_at = models.DateTimeField("最終応答日時")

    class Meta:
        verbose_name = verbose_name_plural = "ワーカーの応答"

    def __str__(self) -> str:
        return f"{self.hostname} ({self.beat_at:%Y-%m-%d %H:%M:%S})"
class FormToken(models.Model):
    """The one-time token a staff form carries (``backoffice.formtokens``): issued when the
    confirm page renders, spent by one conditional UPDATE in the transaction of the action, so a
    double click, a second tab or a browser resubmit runs the action once.

    ``scope`` names the form: the action URL's path, plus the field that tells two forms of one
    page apart (a checklist item). A user has at most one unspent token per scope, which every
    tab showing that form shares."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope"], condition=models.Q(used_at__isnull=True),
                                    name="formtoken_one_unspent_per_form"),
        ]
        indexes = [models.Index(fields=["created_at"], name="formtoken_created")]

    def __str__(self) -> str:
        return f"{self.scope}（{stamp(self.created_at)}）"
