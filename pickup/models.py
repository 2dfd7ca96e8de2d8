"""Konbini pickup (SPEC §4, seeds 000 and 001)."""

from __future__ import annotations

from django.db import models

# seed 000/001: コンビニ受取 at Lawson and Ministop (Loppi) and FamilyMart (Famiポート).
PICKUP_CHAINS = {"lawson": "Loppi", "ministop": "Loppi", "familymart": "Famiポート"}


class Store(models.Model):
    """A pickup store, maintained by its chain through ``PUT /stores/{store_code}``."""

    chain = models.CharField("チェーン", max_length=20, choices=[(c, c) for c in PICKUP_CHAINS])
    code = models.CharField("店舗コード", max_length=20, unique=True)
    name = models.CharField("店舗名", max_length=100)
    prefecture = models.CharField("都道府県", max_length=10)
    address = models.CharField("住所", max_length=200)
    active = models.BooleanField("営業中", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "受取店舗"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def terminal(self) -> str:
        return PICKUP_CHAINS[self.chain]
