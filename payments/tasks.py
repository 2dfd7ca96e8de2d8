"""Celery interfaces of payments/: thin, they call services.

``process_refund`` is acknowledged late and rejected (requeued) if the worker dies, so a refund
task is never lost; the service is idempotent, so a redelivery or a concurrent duplicate does
nothing. Retries of transient gateway failures are counted in the database (``Refund.attempts``),
not by Celery, so a redelivered or swept task keeps the same budget. Prefetch is 1 for every
task (``CELERY_WORKER_PREFETCH_MULTIPLIER``), and the Redis ``visibility_timeout`` (6 h) is longer
than the longest retry countdown (``RETRY_BASE_SECONDS * 2 ** (MAX_ATTEMPTS - 2)``).
"""

from celery import shared_task

from payments import refunds


@shared_task(bind=True, name="payments.process_refund", acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def process_refund(self, refund_id: int):
    outcome = refunds.process(refund_id)
    if outcome.retry_in is not None:
        # Returning the Retry (throw=False) publishes the delayed retry exactly like raising it
        # does in a worker; in eager mode apply() then runs the retry at once instead of
        # propagating Retry to the caller.
        return self.retry(countdown=outcome.retry_in, throw=False)
    return None
