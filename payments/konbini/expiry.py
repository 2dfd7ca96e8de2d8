"""Auto-cancellation of unpaid konbini orders (SPEC §3 "Late payment grace", seed 003).

Seed 003: 支払い期限を過ぎてしまうと自動的にキャンセル扱い — the order leaves the customer's
history at once, a cancellation mail follows, and there is no penalty however often it happens.

Set-based and batched: each batch locks up to ``batch_size`` overdue orders with
``SELECT … FOR UPDATE OF shop_order SKIP LOCKED`` (a confirmation holding an order's lock is
skipped, and the confirmation — which takes the same lock — sees the cancellation if the job won),
then cancels them through the one cancellation core (``shop.services.cancellation.cancel_orders``:
status, events, stock, payments and codes voided, messages — the same code as every other
cancellation). Running it twice, or twice at once, cancels each order once. This is the single
code path of the periodic job, the admin action and the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from backoffice.actors import Actor
from backoffice.timeutil import now
from payments.konbini.confirmations import late_payment_grace
from payments.models import Payment
from shop.models import CancellationReason, Order, OrderStatus, PaymentMethod
from shop.services import cancellation

EXPIRY_BATCH_SIZE = 1000
# Bounds one run's candidate list (ids only, a few MB); anything beyond waits for the next run.
MAX_CANDIDATES_PER_RUN = 500_000
ACTOR = Actor.system("konbini_expiry")


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
        expired += _expire_batch(candidates.filter(pk__anyof=ids[start:start + batch_size]), at)
        batches += 1
    return {"expired": expired, "batches": batches}


def _expire_batch(candidates, at: datetime) -> int:
    """Lock one batch (skipping orders a confirmation holds) and cancel it through the one core,
    which reads the orders under that lock in the same statement."""
    with transaction.atomic():
        result = cancellation.cancel_orders(
            candidates.select_for_update(skip_locked=True, of=("self",)),
            reason=CancellationReason.PAYMENT_EXPIRED, actor=ACTOR, at=at, bulk_messages=True)
    return len(result.cancelled)
