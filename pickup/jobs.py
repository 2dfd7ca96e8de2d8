"""Periodic jobs of pickup/ (SPEC §6). Batched, idempotent, safe to run concurrently."""

from __future__ import annotations

from backoffice.jobs import register
from pickup.services import expiry, parcels

_MAX_BATCHES = 50


def _drain(step, batch_size: int) -> int:
    total = 0
    for _ in range(_MAX_BATCHES):
        done = step(batch_size=batch_size)
        total += done
        if done < batch_size:
            break
    return total


@register("send_due_pickup_notices", every_seconds=300, description="期限を過ぎた受取可能のお知らせを送信")
def send_due_pickup_notices(batch_size: int = 200) -> dict:
    return {"sent": _drain(parcels.send_due_notices, batch_size)}


@register("send_pickup_reminders", every_seconds=3600, description="受取期限3日前のリマインド")
def send_pickup_reminders(batch_size: int = 200) -> dict:
    return {"sent": _drain(parcels.send_reminders, batch_size)}


@register("expire_pickups", every_seconds=600, description="受取期限切れの荷物をキャンセル・返送")
def expire_pickups(batch_size: int = expiry.EXPIRY_BATCH_SIZE) -> dict:
    return expiry.expire_due(batch_size=batch_size, max_batches=_MAX_BATCHES)
