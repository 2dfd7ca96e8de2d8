"""Periodic jobs of shop/."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from backoffice.jobs import register
from backoffice.timeutil import now
from shop.models import Message


@register("send_pending_messages", every_seconds=300, description="未送信メッセージの再送")
def send_pending_messages(batch_size: int = 500) -> dict:
    """Sweep: re-enqueue messages whose e-mail was not sent within 5 minutes (lost task)."""
    from shop.tasks import deliver_message

    ids = list(
        Message.objects.filter(emailed_at__isnull=True, created_at__lt=now() - timedelta(minutes=5))
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    for pk in ids:
        transaction.on_commit(lambda pk=pk: deliver_message.delay(pk))
    return {"enqueued": len(ids)}
