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

from backoffice.timeutil import now
from payments.konbini.codes import void_codes_of_payments
from payments.konbini.confirmations import late_payment_grace
from payments.konbini.models import PaymentCode
from payments.models import Payment
from shop.models import CancellationReason, Order, OrderEvent, OrderStatus, PaymentMethod
from shop.services import messages, orders

EXPIRY_BATCH_SIZE = 1000
# Bounds one run's candidate list (ids only, a few MB); anything beyond waits for the next run.
MAX_CANDIDATES_PER_RUN = 500_000
ACTOR = "system:konbini_expiry"


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
        orders.release_stock(order_ids)
        messages.notify_cancelled_in_bulk(
            [messages.CancelledOrder(pk, number, customer_id, name) for pk, number, customer_id, name, _ in rows],
            reason=reason, at=at)
    return len(order_ids)


def _void_codes_of_voided_payments(at: datetime) -> int:
    """Codes left live on a payment voided by another cancellation path (support, customer)."""
    return PaymentCode.objects.filter(status=PaymentCode.Status.LIVE, payment__status=Payment.Status.VOIDED).update(
        status=PaymentCode.Status.VOID, voided_at=at)
