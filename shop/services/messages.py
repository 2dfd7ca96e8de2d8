"""Customer messages through an outbox: created in the caller's transaction, e-mailed by the
relay (``deliver_pending``, a periodic job every few seconds), exactly once.

"Once" is two database facts: the unique ``dedupe_key`` (one message per cause) and the row lock
taken before sending, with ``emailed_at`` set in the same transaction (one e-mail per message).
No request talks to the broker: a rolled-back transaction leaves no message to send, a committed
one cannot lose its e-mail to a broker hiccup, and the register's confirmation does not wait for
a publish.
"""

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


def cause_key(kind: str, *, customer: Customer, order: Order | None = None) -> str:
    """The cause of a message, once per order (or per customer for account messages)."""
    return f"{kind}:{order.number if order else customer.pk}"


def notify(
    *, customer: Customer, kind: str, order: Order | None = None, context: dict | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """Create the message once for its cause; the relay e-mails it once the transaction has committed."""
    key = dedupe_key or cause_key(kind, customer=customer, order=order)
    subject, body = render(kind, {"customer": customer, "order": order, **(context or {})})
    try:
        # Insert first (one savepoint, one INSERT): the unique dedupe_key decides "once".
        with transaction.atomic():
            message = Message.objects.create(dedupe_key=key, customer=customer, order=order, kind=kind,
                                             subject=subject, body=body, created_at=now())
    except IntegrityError:  # the same cause already created it (a retry, a concurrent request)
        return Message.objects.get(dedupe_key=key)
    return message


def deliver(message_id: int, *, skip_locked: bool = False) -> bool:
    """Send the e-mail of one message unless it was already sent. Returns whether it sent.
    ``skip_locked``: a message another relay is sending right now is left to it."""
    from django.core.mail import send_mail

    with transaction.atomic():
        message = (Message.objects.select_for_update(skip_locked=skip_locked, of=("self",))
                   .select_related("customer").filter(pk=message_id).first())
        if message is None or message.emailed_at is not None:
            return False
        send_mail(message.subject, message.body, None, [message.customer.email])
        message.emailed_at = now()
        message.save(update_fields=["emailed_at"])
    return True


def deliver_pending(*, limit: int = 500) -> int:
    """The relay: e-mail up to ``limit`` unsent messages, oldest first, each in its own transaction
    (an SMTP failure stops the run and leaves the rest for the next one; nothing sent is sent
    again). Concurrent relays skip each other's locked rows. Returns how many it sent."""
    pending = (Message.objects.filter(emailed_at__isnull=True).order_by("created_at", "id")
               .values_list("pk", flat=True)[:limit])
    return sum(deliver(pk, skip_locked=True) for pk in list(pending))
