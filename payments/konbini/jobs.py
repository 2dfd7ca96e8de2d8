"""Periodic jobs of payments.konbini (SPEC §6: expire konbini payments)."""

from __future__ import annotations

from backoffice.jobs import register
from payments.konbini import cases
from payments.konbini.expiry import expire_overdue_payments


@register("expire_konbini_payments", every_seconds=300,
          description="支払い期限（＋猶予）を過ぎたコンビニ払い注文の自動キャンセル")
def expire_konbini_payments() -> dict:
    return expire_overdue_payments()


@register("konbini_unsettled_preliminaries", every_seconds=24 * 3600,
          description="確報が届かない速報（KONBINI_SETTLEMENT_DAYS営業日経過）を経理の確認事項に追加")
def konbini_unsettled_preliminaries() -> dict:
    return cases.list_unsettled()
