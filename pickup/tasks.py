"""Celery interfaces of pickup/: each calls services."""

from celery import shared_task

from payments import refunds
from pickup.services import parcels


@shared_task(name="pickup.send_pickup_notice", acks_late=True)
def send_pickup_notice(pickup_id: int) -> bool:
    """Countdown task enqueued at arrival; ``send_due_notices`` catches it if it is lost."""
    return parcels.send_notice(pickup_id)


@shared_task(name="pickup.enqueue_refunds", acks_late=True)
def enqueue_refunds(refund_ids: list[int]) -> int:
    """Fan out the expiry batch's refunds to their own task (``payments.process_refund``): the
    expiry job publishes one message per chunk instead of one per refund. Re-running it only
    enqueues idempotent refund tasks again."""
    for refund_id in refund_ids:
        refunds.enqueue(refund_id)
    return len(refund_ids)
