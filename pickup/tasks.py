"""Celery interfaces of pickup/: each calls one service."""

from celery import shared_task

from pickup.services import parcels


@shared_task(name="pickup.send_pickup_notice", acks_late=True)
def send_pickup_notice(pickup_id: int) -> bool:
    """Countdown task enqueued at arrival; ``send_due_notices`` catches it if it is lost."""
    return parcels.send_notice(pickup_id)
