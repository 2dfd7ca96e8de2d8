"""Customer messages: created in the caller's transaction, e-mailed by Celery after commit,
exactly once (the ``dedupe_key`` is unique; the task locks the row before sending)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from backoffice.timeutil import now
from shop.models import Customer, Message, Order


def render(kind: str, context: dict) -> tuple[str, str]:
    """templates/messages/<kind>.txt: the first line is the subject, the rest the body."""
    text = render_to_string(f"messages/{kind}.txt", context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def notify(
    *, customer: Customer, kind: str, order: Order | None = None, context: dict | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """Create the message once for its cause and e-mail it after the transaction commits."""
    key = dedupe_key or f"{kind}:{order.number if order else customer.pk}"
    subject, body = render(kind, {"customer": customer, "order": order, **(context or {})})
    try:
        # Insert first (one savepoint, one INSERT): the unique dedupe_key decides "once".
        with transaction.atomic():
            message = Message.objects.create(dedupe_key=key, customer=customer, order=order, kind=kind,
                                             subject=subject, body=body, created_at=now())
    except IntegrityError:  # the same cause already created it (a retry, a concurrent request)
        return Message.objects.get(dedupe_key=key)
    from shop.tasks import deliver_message

    transaction.on_commit(lambda: deliver_message.delay(message.pk))
    return message


def deliver(message_id: int) -> bool:
    """Send the e-mail of one message unless it was already sent. Returns whether it sent."""
    from django.core.mail import send_mail

    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("customer").filter(pk=message_id).first()
        if message is None or message.emailed_at is not None:
            return False
        send_mail(message.subject, message.body, None, [message.customer.email])
        message.emailed_at = now()
        message.save(update_fields=["emailed_at"])
    return True
