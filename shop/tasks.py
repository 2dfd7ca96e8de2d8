from celery import shared_task

from shop.services import messages


@shared_task(name="shop.deliver_message", acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def deliver_message(message_id: int) -> bool:
    """E-mail one message (at most once). The relay job sends new messages; this task remains for
    tasks already queued by earlier releases and for an explicit resend of one message."""
    return messages.deliver(message_id)
