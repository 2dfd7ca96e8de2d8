from celery import shared_task

from payments import refunds


@shared_task(name="payments.process_refund", acks_late=True)
def process_refund(refund_id: int) -> None:
    refunds.process(refund_id)
