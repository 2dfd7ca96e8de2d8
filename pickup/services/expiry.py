"""Pickup expiry (SPEC §4, seed 001): past the deadline the order is cancelled
(``pickup_expired``), the parcel goes back, the keys die, a paid order is refunded, no fee is
charged, and a no-show is counted for the customer; the 3rd no-show within 365 days opens an
account-review case in fraud/ (seed 001: 何度もなされると、アカウントが停止されたり).

Set-based and batched — the one code path of the periodic job, whether it meets one parcel or a
hundred thousand. Each batch locks up to ``batch_size`` parcels, then their orders, with
``SELECT … FOR UPDATE SKIP LOCKED`` (a terminal, a register or a staff cancellation holding
either row is skipped, and sees the expiry if the job won), then cancels the orders through the
one cancellation core (``shop.services.cancellation.cancel_orders``, reason ``pickup_expired``):
status and events, units back to stock, the parcel ``expired`` and its tickets voided, the refund
of what was captured (processed through the outbox), the ``cancelled`` message. What is the
expiry's own is counted here: the no-show.

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
from django.db.models import Count, Exists, OuterRef, Q

from backoffice import bulksql
from backoffice.actors import Actor
from backoffice.timeutil import now
from pickup import rules
from pickup.models import Pickup, PickupNoShow, PickupTicket
from pickup.services import parcels
from shop.models import CancellationReason, Customer, Order, OrderStatus
from shop.services import cancellation

log = logging.getLogger(__name__)
S = OrderStatus
ACTOR = Actor.system("pickup_expiry")
EXPIRY_BATCH_SIZE = 1000
REASON = CancellationReason.PICKUP_EXPIRED


def expire_due(*, batch_size: int = EXPIRY_BATCH_SIZE, max_batches: int | None = None) -> dict:
    """Expire every parcel past its deadline, batch by batch. Returns counts for the job log."""
    totals: Counter[str] = Counter(expired=0, batches=0)
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
            .values_list("pk", "order_id", "inquiry_number", "deadline")[:batch_size]
        )
        if not rows:
            return 0, None
        cursor = (rows[-1][3], rows[-1][0])
        # A fresh statement, now that the rows are ours: a ticket committed after the query's
        # snapshot but before we got the lock is seen here, and its parcel is left alone.
        held = set(_live_tickets(at).filter(pickup_id__anyof=[r[0] for r in rows]).values_list("pickup_id", flat=True))
        rows = [r for r in rows if r[0] not in held]
        if not rows:
            return 0, cursor
        # The orders too, locked by the core's read (a staff cancellation or a carrier event
        # holding one is skipped).
        result = cancellation.cancel_orders(
            Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                pk__anyof=[r[1] for r in rows], status=S.READY_FOR_PICKUP),
            reason=REASON, actor=ACTOR, at=at, bulk_messages=True,
            details_of={r[1]: {"inquiry_number": r[2]} for r in rows})
        _count_no_shows([(order_id, result.plans[order_id].customer_id) for order_id in result.cancelled], at)
    return len(result.cancelled), cursor


# --- no-shows ---------------------------------------------------------------------------------

def _count_no_shows(order_customers: list[tuple[int, int]], at: datetime) -> None:
    bulksql.insert(PickupNoShow, {"customer_id": [c for _o, c in order_customers],
                                  "order_id": [o for o, _c in order_customers], "occurred_at": at},
                   ignore_conflicts=True)
    new_per_customer = Counter(customer_id for _order_id, customer_id in order_customers)
    in_window = dict(
        PickupNoShow.objects.filter(customer_id__anyof=list(new_per_customer), occurred_at__gt=at - rules.NO_SHOW_WINDOW)
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
