"""Pickup expiry (SPEC §4, seed 001): past the deadline the order is cancelled
(``pickup_expired``), the parcel goes back, the keys die, a paid order is refunded, no fee is
charged, and a no-show is counted for the customer; the 3rd no-show within 365 days opens an
account-review case in fraud/ (seed 001: 何度もなされると、アカウントが停止されたり).

Set-based and batched — the one code path of the periodic job, whether it meets one parcel or a
hundred thousand. Each batch locks up to ``batch_size`` parcels, then their orders, with
``SELECT … FOR UPDATE SKIP LOCKED`` (a terminal, a register or a staff cancellation holding
either row is skipped, and sees the expiry if the job won), then in one
transaction does for the whole batch what ``orders.cancel`` does for one order, with a handful
of statements instead of ~25 per order:

- order ``ready_for_pickup`` → ``cancelled`` (conditional update) + its timeline events;
- reserved units back to stock (listings locked in primary-key order, as placement does);
- the refund of what was captured: one ``Refund`` per order (cause ``cancel``, the method
  chosen by ``payments.refunds.methods_for``, one query for the batch), the amount reserved on the locked payment; the
  refund tasks are enqueued after commit through ``payments.refunds.enqueue`` (fanned out by a
  pickup task in chunks, so the job never runs a refund inline); ``refunds.sweep_stuck`` is
  the safety net for a lost task;
- the ``cancelled`` message (``messages.notify_cancelled_in_bulk``: same cause key as
  ``messages.notify``), e-mailed by the message relay;
- the parcel ``expired``, its tickets voided, the return on the timeline, the no-show counted.

A parcel with a live ticket (printed before the deadline, not yet redeemed or expired) is left
alone until that ticket's 30 minutes are over: whoever holds it is at the register. So a ticket
racing the deadline ends either with a valid ticket and no cancellation, or a cancellation and
no ticket (``issue_ticket`` refuses once the deadline has passed, under the same row lock).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q

from backoffice.timeutil import now
from payments import refunds
from payments.models import Payment, Refund
from pickup import rules
from pickup.models import Pickup, PickupNoShow, PickupTicket
from pickup.services import parcels
from shop.models import CancellationReason, Customer, Order, OrderEvent, OrderStatus
from shop.services import messages, orders

log = logging.getLogger(__name__)
S = OrderStatus
ACTOR = "system:pickup_expiry"
EXPIRY_BATCH_SIZE = 1000
TASK_CHUNK = 500  # ids per fan-out task (refund enqueues, message deliveries)
REASON = CancellationReason.PICKUP_EXPIRED


def expire_due(*, batch_size: int = EXPIRY_BATCH_SIZE, max_batches: int | None = None) -> dict:
    """Expire every parcel past its deadline, batch by batch. Returns counts for the job log."""
    totals: Counter[str] = Counter(expired=0, closed=0, batches=0)
    totals["closed"] += _close_cancelled_elsewhere()
    at = now()
    after = None
    while max_batches is None or totals["batches"] < max_batches:
        expired, after = expire_batch(batch_size=batch_size, at=at, after=after)
        if after is None:
            break
        totals["expired"] += expired
        totals["batches"] += 1
    return dict(totals)


def _live_tickets(at: datetime):
    return PickupTicket.objects.filter(voided_at__isnull=True, redeemed_at__isnull=True, expires_at__gte=at)


def expire_batch(*, batch_size: int = EXPIRY_BATCH_SIZE, at: datetime | None = None,
                 after: tuple[datetime, int] | None = None) -> tuple[int, tuple[datetime, int] | None]:
    """Expire one batch of parcels whose deadline passed before ``at``. Returns the number
    expired and the keyset cursor (deadline, id) of the last parcel looked at — the next batch
    starts after it, so it never re-reads the index entries this batch just made dead — or None
    when there was nothing left."""
    at = at or now()
    candidates = Pickup.objects.filter(parcels.LIVE, deadline__lt=at)
    if after is not None:
        candidates = candidates.filter(Q(deadline__gt=after[0]) | Q(deadline=after[0], pk__gt=after[1]))
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(of=("self",), skip_locked=True)
            .exclude(Exists(_live_tickets(at).filter(pickup=OuterRef("pk"))))
            .order_by("deadline", "pk")
            .values_list("pk", "order_id", "order__number", "order__customer_id", "order__customer__name",
                         "inquiry_number", "deadline")[:batch_size]
        )
        if not rows:
            return 0, None
        cursor = (rows[-1][6], rows[-1][0])
        # A fresh statement, now that the rows are ours: a ticket committed after the query's
        # snapshot but before we got the lock is seen here, and its parcel is left alone.
        held = set(_live_tickets(at).filter(pickup_id__in=[r[0] for r in rows]).values_list("pickup_id", flat=True))
        # The orders too (a staff cancellation or a carrier event holding one is skipped).
        orders_locked = set(Order.objects.select_for_update(skip_locked=True).filter(
            pk__in=[r[1] for r in rows], status=S.READY_FOR_PICKUP).values_list("pk", flat=True))
        rows = [r[:6] for r in rows if r[0] not in held and r[1] in orders_locked]
        if not rows:
            return 0, cursor
        pickup_ids = [r[0] for r in rows]
        order_ids = [r[1] for r in rows]
        updated = Order.objects.filter(pk__in=order_ids, status=S.READY_FOR_PICKUP).update(
            status=S.CANCELLED, cancellation_reason=REASON, updated_at=at)
        if updated != len(order_ids):  # pragma: no cover - the rows are locked
            raise RuntimeError("pickup expiry: an order changed under its lock")
        orders.release_stock(order_ids)
        new_refunds = _request_refunds(order_ids, at)
        labels = dict(Refund.Method.choices)
        # The timeline: the cancellation (with the parcel's return) and the refund, one INSERT.
        OrderEvent.objects.bulk_create([
            *(OrderEvent(order_id=order_id, at=at, kind="status_changed", from_status=S.READY_FOR_PICKUP,
                         to_status=S.CANCELLED, actor=ACTOR,
                         note=f"{REASON.label}：荷物 {inquiry} を返送、認証キー無効（手数料なし）")
              for _pk, order_id, *_rest, inquiry in rows),
            *(OrderEvent(order_id=r.order_id, at=at, kind="refund_requested", actor=ACTOR,
                         note=f"返金#{r.pk} 受付 {r.amount:,}円（{labels[r.method]}）") for r in new_refunds),
        ])
        refunded = {r.order_id for r in new_refunds}
        messages.notify_cancelled_in_bulk(
            [messages.CancelledOrder(order_id, number, customer_id, name, refunded=order_id in refunded)
             for _pk, order_id, number, customer_id, name, _inquiry in rows], reason=REASON, at=at)
        refund_ids = [r.pk for r in new_refunds]
        Pickup.objects.filter(pk__in=pickup_ids).update(status=Pickup.Status.EXPIRED, closed_at=at)
        PickupTicket.objects.filter(pickup_id__in=pickup_ids, voided_at__isnull=True,
                                    redeemed_at__isnull=True).update(voided_at=at)
        _count_no_shows([(r[1], r[3]) for r in rows], at)
        transaction.on_commit(lambda: _enqueue_refunds(refund_ids))
    return len(rows), cursor


def _close_cancelled_elsewhere() -> int:
    """Keys of parcels whose order was cancelled by another path (a carrier return, support)
    die too: the parcel leaves ``ready`` and its tickets are voided. No no-show is counted."""
    at = now()
    with transaction.atomic():
        ids = list(Pickup.objects.select_for_update(of=("self",), skip_locked=True)
                   .filter(status=Pickup.Status.READY, order__status=S.CANCELLED)
                   .values_list("pk", flat=True)[:EXPIRY_BATCH_SIZE])
        if ids:
            Pickup.objects.filter(pk__in=ids).update(status=Pickup.Status.CANCELLED, closed_at=at)
            PickupTicket.objects.filter(pickup_id__in=ids, voided_at__isnull=True, redeemed_at__isnull=True).update(
                voided_at=at)
    return len(ids)


def _request_refunds(order_ids: list[int], at: datetime) -> list[Refund]:
    """What ``refunds.request_for_cancellation`` does per order, for the batch: void what was
    never paid, refund what is still refundable (cause ``cancel``, once per order by the
    database's unique constraint), reserving it on the locked payment."""
    Payment.objects.filter(order_id__in=order_ids, status=Payment.Status.PENDING).update(
        status=Payment.Status.VOIDED)
    payments = [p for p in Payment.objects.select_for_update()
                .only("pk", "order_id", "method", "captured_amount", "refunded_amount")
                .filter(order_id__in=order_ids).order_by("pk") if p.refundable > 0]
    if not payments:
        return []
    methods = refunds.methods_for(payments)
    new = Refund.objects.bulk_create(
        Refund(order_id=p.order_id, payment_id=p.pk, amount=p.refundable, method=methods[p.pk],
               reason=REASON, cause=refunds.CANCEL_CAUSE, updated_at=at)
        for p in payments
    )
    # Locked rows: refunded_amount + refundable == captured_amount, exactly.
    Payment.objects.filter(pk__in=[p.pk for p in payments]).update(refunded_amount=F("captured_amount"))
    return new


def _enqueue_refunds(refund_ids: list[int]) -> None:
    from pickup.tasks import enqueue_refunds

    for start in range(0, len(refund_ids), TASK_CHUNK):
        enqueue_refunds.delay(refund_ids[start:start + TASK_CHUNK])


# --- no-shows ---------------------------------------------------------------------------------

def _count_no_shows(order_customers: list[tuple[int, int]], at: datetime) -> None:
    PickupNoShow.objects.bulk_create(
        [PickupNoShow(customer_id=customer_id, order_id=order_id, occurred_at=at)
         for order_id, customer_id in order_customers],
        ignore_conflicts=True,
    )
    new_per_customer = Counter(customer_id for _order_id, customer_id in order_customers)
    in_window = dict(
        PickupNoShow.objects.filter(customer_id__in=new_per_customer, occurred_at__gt=at - rules.NO_SHOW_WINDOW)
        .values("customer_id").annotate(n=Count("pk")).values_list("customer_id", "n")
    )
    for customer_id, new in new_per_customer.items():
        total = in_window.get(customer_id, 0)
        if total - new < rules.NO_SHOW_REVIEW_THRESHOLD <= total:
            _open_review_case(customer_id, at)


def _open_review_case(customer_id: int, at: datetime) -> None:
    """The 3rd no-show within 365 days: an account-review case (fraud report
    ``repeated_pickup_cancellation``) linked to the no-show orders; staff decide on suspension."""
    no_shows = list(
        PickupNoShow.objects.filter(customer_id=customer_id, occurred_at__gt=at - rules.NO_SHOW_WINDOW)
        .order_by("occurred_at", "pk")
    )
    customer = Customer.objects.get(pk=customer_id)
    order_list = list(Order.objects.filter(pk__in=[n.order_id for n in no_shows]).order_by("placed_at", "pk"))
    reference = open_fraud_report(customer, order_list)
    PickupNoShow.objects.filter(pk=no_shows[-1].pk).update(review_opened=True, review_reference=reference)


def open_fraud_report(customer: Customer, order_list: list[Order]) -> str:
    """Open the fraud/ account-review report, linked to the no-show orders; returns its reference."""
    from fraud.models import ReportType
    from fraud.services import reports

    numbers = "、".join(o.number for o in order_list)
    report = reports.open_report(
        type=ReportType.REPEATED_PICKUP_CANCELLATION, customer=customer, orders=order_list, actor="system",
        description=f"コンビニ受取の期限切れ（未受取）が{rules.NO_SHOW_WINDOW.days}日以内に{len(order_list)}件: {numbers}",
    )
    return f"fraud:report:{report.pk}"
