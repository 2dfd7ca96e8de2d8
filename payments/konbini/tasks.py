from celery import shared_task

from shop.services import messages


@shared_task(name="konbini.deliver_messages", acks_late=True, autoretry_for=(OSError,), retry_backoff=True,
             max_retries=8)
def deliver_messages(message_ids: list[int]) -> int:
    """E-mail a batch of messages (the expiry job's cancellations); each is sent at most once."""
    return sum(messages.deliver(pk) for pk in message_ids)
