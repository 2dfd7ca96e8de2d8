"""Celery interfaces of payments/: thin, they call services.

``process_refund`` is acknowledged late and rejected (requeued) if the worker dies, so a refund
task is never lost; the service is idempotent, so a redelivery, a concurrent duplicate or the
outbox's at-least-once publish does nothing. The database away (issue 19) is retried after a short
backoff (``outages.TASK_RETRY``), not failed. Retries of transient gateway failures are counted
in the database (``Refund.attempts``) and scheduled by the service as a new outbox row due after
the backoff, so the broker never holds a countdown task.
"""

from celery import shared_task

from backoffice import outages
from payments.services import refunds


@shared_task(name="payments.process_refund", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             **outages.TASK_RETRY)
def process_refund(refund_id: int) -> None:
    refunds.process(refund_id)
