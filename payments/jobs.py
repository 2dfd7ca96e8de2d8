"""Periodic jobs of payments/ (registered with backoffice.jobs; beat runs them)."""

from __future__ import annotations

from backoffice.jobs import register
from payments.services import bank, refunds


@register("refunds_sweep_stuck", every_seconds=600, description="処理が止まった返金の再投入")
def sweep_stuck_refunds() -> dict:
    return {"enqueued": refunds.sweep_stuck()}


@register("refunds_bank_transfer_batch", every_seconds=24 * 3600, description="銀行振込返金の振込データ（全銀）作成")
def batch_bank_transfers() -> dict:
    batch = bank.create_batch(actor="system")
    return {"batch": batch.pk if batch else None, "count": batch.count if batch else 0,
            "total": batch.total if batch else 0}
