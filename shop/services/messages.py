"""Customer messages through an outbox: created in the caller's transaction, e-mailed by the
relay (``deliver_pending``, a periodic job every few seconds), exactly once.

"Once" is two database facts: the unique ``dedupe_key`` (one message per cause) and the row lock
taken before sending, with ``emailed_at`` set in the same transaction (one e-mail per message).
No request talks to the broker: a rolled-back transaction leaves no message to send, a committed
one cannot lose its e-mail to a broker hiccup, and the register's confirmation does not wait for
a publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.html import conditional_escape

from backoffice.timeutil import now
from shop.models import CancellationReason, Customer, Message, Order


def render(kind: str, context: dict) -> tuple[str, str]:
    """templates/messages/<kind>.txt: the first line is the subject, the rest the body."""
    text = render_to_string(f"messages/{kind}.txt", context).strip()
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def order_key(kind: str, number: str) -> str:
    """The cause of an order's message of this kind: one per order."""
    return f"{kind}:{number}"


def cause_key(kind: str, *, customer: Customer, order: Order | None = None) -> str:
    """The cause of a message, once per order (or per customer for account messages)."""
    return order_key(kind, order.number) if order else f"{kind}:{customer.pk}"


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


# --- the cancellation message of a batch (the expiry jobs) ------------------------------------

@dataclass(frozen=True)
class CancelledOrder:
    """What the ``cancelled`` template reads of one order of a batch."""

    order_id: int
    number: str
    customer_id: int
    customer_name: str
    refunded: bool = False


class _Stand:
    """The little a message template reads of an order or a customer."""

    def __init__(self, **fields) -> None:
        self.__dict__.update(fields)


# Stand-ins rendered once per batch, then replaced by each order's values (escaped exactly as the
# template engine escapes them): rendering the template per order would cost more than the rest
# of a bulk cancellation. Tests check the result equals ``render`` for the same order.
_NAME, _NUMBER = "\x00customer-name\x00", "\x00order-number\x00"


def cancellation_text(customer_name: str, number: str, *, reason: CancellationReason, refunded: bool,
                      _templates: dict | None = None) -> tuple[str, str]:
    """Subject and body of the ``cancelled`` message, as ``render`` gives them for that order."""
    templates = _templates if _templates is not None else {}
    if refunded not in templates:
        order = _Stand(number=_NUMBER, cancellation_reason=reason.value,
                       get_cancellation_reason_display=lambda: reason.label)
        templates[refunded] = render(Message.Kind.CANCELLED, {"customer": _Stand(name=_NAME), "order": order,
                                                               "refund": True if refunded else None})
    values = {_NAME: str(conditional_escape(customer_name)), _NUMBER: str(conditional_escape(number))}

    def fill(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    subject, body = templates[refunded]
    return fill(subject), fill(body)


def notify_cancelled_in_bulk(orders: Sequence[CancelledOrder], *, reason: CancellationReason, at: datetime) -> int:
    """``notify(kind="cancelled")`` for a batch cancelled for one reason: each order's message
    once (the same cause key), in one INSERT; the relay e-mails them. Returns how many it created."""
    kind = Message.Kind.CANCELLED
    keys = {o.order_id: order_key(kind, o.number) for o in orders}
    existing = set(Message.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
    templates: dict = {}
    new = []
    for o in orders:
        if keys[o.order_id] in existing:
            continue
        subject, body = cancellation_text(o.customer_name, o.number, reason=reason, refunded=o.refunded,
                                          _templates=templates)
        new.append(Message(customer_id=o.customer_id, order_id=o.order_id, kind=kind, subject=subject, body=body,
                           dedupe_key=keys[o.order_id], created_at=at))
    return len(Message.objects.bulk_create(new))
