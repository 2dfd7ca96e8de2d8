"""Periodic jobs of shop/."""

from __future__ import annotations

from django.conf import settings

from backoffice.jobs import register
from shop.services import erasure, messages, orders


@register("send_pending_messages", every_seconds=settings.MESSAGE_RELAY_SECONDS, description="メッセージのメール送信")
def send_pending_messages(limit: int = 500) -> dict:
    """The outbox relay: e-mail the messages committed since the last run (and any a failed run
    left behind). Runs every ``MESSAGE_RELAY_SECONDS`` (default 5), so a customer's e-mail goes
    out within seconds of the transaction that created it."""
    return {"sent": messages.deliver_pending(limit=limit)}


@register("card_orders_abandoned", every_seconds=300, description="カード決済が中断された注文の取消と売上取消")
def cancel_abandoned_card_orders() -> dict:
    """A placement that died between its two transactions left a card order waiting for its
    capture: void the capture (if any) and cancel the order (``orders.CARD_CAPTURE_ABANDONED_AFTER``)."""
    return {"cancelled": orders.cancel_abandoned_card_orders()}


@register("erase_closed_customers", every_seconds=settings.ERASURE_JOB_SECONDS,
          description="退会したお客様の個人情報の削除")
def erase_closed_customers() -> dict:
    """Erase the personal data of customers closed since the last run (shop.services.erasure);
    the books stay. Idempotent and safe to run concurrently (closures are claimed SKIP LOCKED)."""
    return {"erased": erasure.erase_due()}
