"""Celery interfaces of pickup/: each calls services."""

from celery import shared_task

from backoffice import outages
from pickup.services import parcels


@shared_task(name="pickup.send_pickup_notice", acks_late=True, reject_on_worker_lost=True, **outages.TASK_RETRY)
def send_pickup_notice(pickup_id: int) -> bool:
    """Published by the outbox at the notice time (arrival + ``PICKUP_NOTICE_DELAY``);
    ``send_due_notices`` catches a lost one."""
    return parcels.send_notice(pickup_id)
