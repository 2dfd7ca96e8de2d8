"""Celery interfaces of webhooks/ (published by the outbox relay): thin, they call services.
Each is idempotent: a fan-out marks its events, a delivery is claimed by a conditional UPDATE."""

from celery import shared_task

from webhooks import delivery, fanout, services


@shared_task(name="webhooks.fan_out", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out(event_ids: list[int]) -> int:
    return fanout.fan_out(event_ids)


@shared_task(name="webhooks.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    return delivery.deliver(delivery_id)


@shared_task(name="webhooks.notify_disabled", ignore_result=True)
def notify_disabled(endpoint_id: int) -> bool:
    return services.notify_disabled(endpoint_id)
