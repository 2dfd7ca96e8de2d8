"""Auto-cancellation of unpaid konbini orders (SPEC §3 "Late payment grace", seed 003).

Seed 003: 支払い期限を過ぎてしまうと自動的にキャンセル扱い — the order leaves the customer's
history at once, a cancellation mail follows, and there is no penalty however often it happens.

Set-based and batched: each batch locks up to ``batch_size`` overdue orders with
``SELECT … FOR UPDATE OF shop_order SKIP LOCKED`` (a confirmation holding an order's lock is
skipped, and the confirmation — which takes the same lock — sees the cancellation if the job won),
then in the same transaction moves them to ``cancelled`` with a conditional update, writes their
timeline events, voids their payments and codes, releases their stock and creates their
cancellation messages, which Celery e-mails after commit. Running it twice, or twice at once,
cancels each order once. This is the single code path of the periodic job, the admin action and
the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, Sum, Value, When
from django.utils.html import conditional_escape

from backoffice.timeutil import now
from payments.konbini.codes import void_codes_of_payments
from payments.konbini.confirmations import late_payment_grace
from payments.konbini.models import PaymentCode
from payments.models import Payment
from shop.models import CancellationReason, Listing, Message, Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod
from shop.services.messages import render

EXPIRY_BATCH_SIZE = 1000
# Bounds one run's candidate list (ids only, a few MB); anything beyond waits for the next run.
MAX_CANDIDATES_PER_RUN = 500_000
ACTOR = "system:konbini_expiry"
_MESSAGE_TASK_CHUNK = 200


def overdue_orders(at: datetime):
    """Konbini orders still awaiting payment whose deadline + grace has passed at ``at``."""
    return Order.objects.filter(
        status=OrderStatus.PENDING_PAYMENT, payment_method=PaymentMethod.KONBINI,
        payment__status=Payment.Status.PENDING, payment__deadline__lt=at - late_payment_grace(),
    )


def expire_overdue_payments(*, at: datetime | None = None, batch_size: int = EXPIRY_BATCH_SIZE,
                            order_ids: Iterable[int] | None = None, max_batches: int | None = None) -> dict:
    """Cancel every overdue konbini order (``payment_expired``), batch by batch.

    One unlocked pass lists the candidates' ids (at most ``MAX_CANDIDATES_PER_RUN``; the next
    run takes the rest); each batch then locks its slice by primary key and re-checks every
    condition under the lock, so a stale candidate (paid, cancelled meanwhile, or locked by a
    confirmation) is simply left alone. Walking the list keeps each batch's cost constant
    instead of rescanning the rows earlier batches already cancelled.
    """
    at = at or now()
    candidates = overdue_orders(at)
    if order_ids is not None:
        candidates = candidates.filter(pk__in=list(order_ids))
    ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:MAX_CANDIDATES_PER_RUN])
    expired = batches = 0
    for start in range(0, len(ids), batch_size):
        if max_batches is not None and batches >= max_batches:
            break
        expired += _expire_batch(candidates.filter(pk__in=ids[start:start + batch_size]), at)
        batches += 1
    orphans = _void_codes_of_voided_payments(at)
    return {"expired": expired, "batches": batches, "orphan_codes_voided": orphans}


def _expire_batch(candidates, at: datetime) -> int:
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(skip_locked=True, of=("self",)).order_by()
            .values_list("pk", "number", "customer_id", "customer__name", "payment__pk")
        )
        if not rows:
            return 0
        order_ids = [row[0] for row in rows]
        # Locked above; the status condition still makes a stale candidate list harmless.
        updated = Order.objects.filter(pk__in=order_ids, status=OrderStatus.PENDING_PAYMENT).update(
            status=OrderStatus.CANCELLED, cancellation_reason=CancellationReason.PAYMENT_EXPIRED, updated_at=at)
        if updated != len(order_ids):  # pragma: no cover - only without row locks
            raise RuntimeError("konbini expiry: an order changed under its lock")
        reason = CancellationReason.PAYMENT_EXPIRED
        OrderEvent.objects.bulk_create(
            OrderEvent(order_id=pk, at=at, kind="status_changed", from_status=OrderStatus.PENDING_PAYMENT,
                       to_status=OrderStatus.CANCELLED, actor=ACTOR, note=reason.label)
            for pk in order_ids
        )
        payment_ids = [row[4] for row in rows]
        Payment.objects.filter(pk__in=payment_ids, status=Payment.Status.PENDING).update(
            status=Payment.Status.VOIDED)
        void_codes_of_payments(payment_ids, at=at)
        _release_stock(order_ids)
        message_ids = _cancellation_messages(rows, at)
    if message_ids:
        transaction.on_commit(lambda: _enqueue_messages(message_ids))
    return len(order_ids)


def _release_stock(order_ids: list[int]) -> None:
    """Give back the reserved units: one locked read and one UPDATE for the whole batch.
    Listings are locked in primary-key order, the order order placement uses: no deadlock."""
    per_listing = dict(
        OrderLine.objects.filter(order_id__in=order_ids).order_by().values("listing_id")
        .annotate(units=Sum("quantity")).values_list("listing_id", "units")
    )
    if not per_listing:
        return
    list(Listing.objects.select_for_update().filter(pk__in=per_listing).order_by("pk").values_list("pk", flat=True))
    Listing.objects.filter(pk__in=per_listing).update(
        stock=F("stock") + Case(*(When(pk=pk, then=Value(units)) for pk, units in per_listing.items()),
                                default=Value(0))
    )


class _Named:
    """The little a message template reads of an order or a customer."""

    def __init__(self, **fields) -> None:
        self.__dict__.update(fields)


# Stand-ins rendered once per batch, then replaced by each order's values (escaped exactly as the
# template engine escapes them): rendering the template per order would cost more than the rest
# of the cancellation. A test checks the result equals ``messages.render`` for the same order.
_NAME, _NUMBER = "\x00customer-name\x00", "\x00order-number\x00"


def render_cancellation(rows) -> dict[int, tuple[str, str]]:
    """Subject and body of the ``payment_expired`` cancellation message of each order row."""
    reason = CancellationReason.PAYMENT_EXPIRED
    order = _Named(number=_NUMBER, cancellation_reason=reason.value, get_cancellation_reason_display=lambda: reason.label)
    subject, body = render("cancelled", {"customer": _Named(name=_NAME), "order": order, "refund": None})
    out = {}
    for pk, number, _customer_id, customer_name, _payment_id in rows:
        values = {_NAME: str(conditional_escape(customer_name)), _NUMBER: str(conditional_escape(number))}
        out[pk] = tuple(_fill(text, values) for text in (subject, body))
    return out


def _fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _cancellation_messages(rows, at: datetime) -> list[int]:
    """The ``cancelled`` message of each order, once (same ``dedupe_key`` as ``messages.notify``)."""
    keys = {row[0]: f"cancelled:{row[1]}" for row in rows}
    existing = set(Message.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
    fresh = [row for row in rows if keys[row[0]] not in existing]
    texts = render_cancellation(fresh)
    new = [Message(customer_id=customer_id, order_id=pk, kind=Message.Kind.CANCELLED, subject=texts[pk][0],
                   body=texts[pk][1], dedupe_key=keys[pk], created_at=at)
           for pk, _number, customer_id, _name, _payment_id in fresh]
    return [m.pk for m in Message.objects.bulk_create(new)]


def _enqueue_messages(message_ids: list[int]) -> None:
    from payments.konbini.tasks import deliver_messages

    for start in range(0, len(message_ids), _MESSAGE_TASK_CHUNK):
        deliver_messages.delay(message_ids[start:start + _MESSAGE_TASK_CHUNK])


def _void_codes_of_voided_payments(at: datetime) -> int:
    """Codes left live on a payment voided by another cancellation path (support, customer)."""
    return PaymentCode.objects.filter(status=PaymentCode.Status.LIVE, payment__status=Payment.Status.VOIDED).update(
        status=PaymentCode.Status.VOID, voided_at=at)
