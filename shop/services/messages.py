"""Customer messages through an outbox: created in the caller's transaction, e-mailed by the
relay (``deliver_pending``, a periodic job every few seconds).

"Once" is database facts: the unique ``dedupe_key`` (one message per cause), and a conditional
UPDATE that claims a message before its e-mail is sent and ``emailed_at`` after (one e-mail per
message; only a crash between the mail server's acceptance and that mark can repeat one).
No request talks to the broker: a rolled-back transaction leaves no message to send, a committed
one cannot lose its e-mail to a broker hiccup, and the register's confirmation does not wait for
a publish. A failed send is retried with backoff and never holds up the other messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils.html import conditional_escape

from backoffice import bulksql
from backoffice.timeutil import now
from shop.models import CancellationReason, Customer, Message, Order

log = logging.getLogger(__name__)


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


def build(
    *, customer: Customer, kind: str, order: Order | None = None, context: dict | None = None,
    dedupe_key: str | None = None, at: datetime | None = None,
) -> Message:
    """The unsaved message of this cause (``notify`` saves it; the confirmation's single
    statement inserts the same row)."""
    key = dedupe_key or cause_key(kind, customer=customer, order=order)
    subject, body = render(kind, {"customer": customer, "order": order, **(context or {})})
    return Message(dedupe_key=key, customer=customer, order=order, kind=kind, subject=subject, body=body,
                   created_at=at or now())


def notify(
    *, customer: Customer, kind: str, order: Order | None = None, context: dict | None = None,
    dedupe_key: str | None = None,
) -> Message:
    """Create the message once for its cause; the relay e-mails it once the transaction has committed."""
    message = build(customer=customer, kind=kind, order=order, context=context, dedupe_key=dedupe_key)
    key = message.dedupe_key
    try:
        # Insert first (one savepoint, one INSERT): the unique dedupe_key decides "once".
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:  # the same cause already created it (a retry, a concurrent request)
        return Message.objects.get(dedupe_key=key)
    return message


# A claimed send that has not finished after this long is taken to have died with its process;
# the message is claimed again (so a crash between the SMTP server's "OK" and the mark can
# repeat one e-mail — nothing else does).
SEND_CLAIM = timedelta(minutes=5)
# The relay stops a run after this many failures in a row: the mail server is down, not the messages.
RELAY_MAX_FAILURES_IN_A_ROW = 5


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failed send: 1, 2, 4 … minutes, at most 1 hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def _due(at):
    return (Q(emailed_at__isnull=True, send_attempts__lt=settings.MESSAGE_MAX_SEND_ATTEMPTS)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at)))


def deliver(message_id: int) -> bool:
    """Send the e-mail of one message unless it was already sent (or is being sent, or waits for
    its retry). Returns whether it sent; a failed send raises after recording the error and
    the time of the next attempt.

    The message is claimed by a conditional UPDATE (a short transaction of its own), sent with
    no transaction open — a slow mail server never holds a database lock — then marked sent.
    Two relays, or a relay and a redelivered task, cannot both claim it."""
    from django.core.mail import send_mail

    at = now()
    claimed = Message.objects.filter(_due(at), pk=message_id).update(
        next_attempt_at=at + SEND_CLAIM, send_attempts=F("send_attempts") + 1)
    if not claimed:
        return False
    message = Message.objects.select_related("customer").get(pk=message_id)
    try:
        send_mail(message.subject, message.body, None, [message.customer.email])
    except Exception as exc:
        Message.objects.filter(pk=message_id).update(
            next_attempt_at=now() + retry_delay(message.send_attempts), last_error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    Message.objects.filter(pk=message_id).update(emailed_at=now(), next_attempt_at=None, last_error="")
    return True


def deliver_pending(*, limit: int = 500) -> int:
    """The relay: e-mail up to ``limit`` due messages — the ones people wait for first, then bulk
    batches, oldest first within each. A message whose send fails is retried later with backoff
    and never holds up the others; after ``RELAY_MAX_FAILURES_IN_A_ROW`` failures in a row the
    run stops (the mail server is down). Returns how many it sent."""
    pending = list(Message.objects.filter(_due(now())).order_by("bulk", "created_at", "id")
                   .values_list("pk", flat=True)[:limit])
    sent = failures_in_a_row = 0
    for pk in pending:
        try:
            sent += deliver(pk)
        except Exception:
            log.warning("message %s: e-mail failed, retried later", pk, exc_info=True)
            failures_in_a_row += 1
            if failures_in_a_row >= RELAY_MAX_FAILURES_IN_A_ROW:
                break
        else:
            failures_in_a_row = 0
    return sent


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


def notify_cancelled_in_bulk(orders: Sequence[CancelledOrder], *, reason: CancellationReason, at: datetime,
                             bulk: bool = True) -> int:
    """``notify(kind="cancelled")`` for a batch cancelled for one reason: each order's message
    once (the same cause key), in one INSERT; the relay e-mails them. Returns how many it wrote."""
    kind = Message.Kind.CANCELLED
    templates: dict = {}
    subjects, bodies = [], []
    for o in orders:
        subject, body = cancellation_text(o.customer_name, o.number, reason=reason, refunded=o.refunded,
                                          _templates=templates)
        subjects.append(subject)
        bodies.append(body)
    # The unique dedupe key decides "once": a message this cause already created is left as it is.
    return bulksql.insert(Message, {
        "customer_id": [o.customer_id for o in orders], "order_id": [o.order_id for o in orders], "kind": kind,
        "subject": subjects, "body": bodies, "dedupe_key": [order_key(kind, o.number) for o in orders],
        "created_at": at, "bulk": bulk}, ignore_conflicts=True)
