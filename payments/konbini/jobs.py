"""Periodic jobs of payments.konbini (SPEC §6: expire konbini payments)."""

from __future__ import annotations

from backoffice.jobs import register
from payments.konbini.expiry import expire_overdue_payments


@register("expire_konbini_payments", every_seconds=300,
          description="支払い期限（＋猶予）を過ぎたコンビニ払い注文の自動キャンセル")
def expire_konbini_payments() -> dict:
    return expire_overdue_payments()
