"""Partners of the REST API and the Idempotency-Key store."""

from __future__ import annotations

import hashlib
import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from payments.konbini.chains import CHAIN_CHOICES
from shop.models import Shipment


class Partner(models.Model):
    """A partner of the API (取引先). Keys are stored as SHA-256 digests, never in clear."""

    class Kind(models.TextChoices):
        STOREFRONT = "storefront", "ストアフロント"
        KONBINI_CHAIN = "konbini_chain", "コンビニチェーン"
        CARRIER = "carrier", "配送業者"
        WAREHOUSE = "warehouse", "倉庫"
        SELLER = "seller", "出品者"

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

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
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
