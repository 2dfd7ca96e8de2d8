"""Pickup expiry (SPEC §4, seed 001): past the deadline the order is cancelled
(``pickup_expired``), the parcel goes back, the keys die, a paid order is refunded (enqueued
through the refunds service), no fee is charged, and a no-show is counted for the customer; the
3rd no-show within 365 days opens an account-review case in fraud/.

One code path for one parcel or a hundred thousand: batches locked with ``SKIP LOCKED`` (so
concurrent runs split the work instead of waiting), the order cancelled by
``orders.cancel``, the pickup-side writes in bulk per batch.

A parcel with a live ticket (printed before the deadline, not yet redeemed or expired) is left
alone until that ticket's 30 minutes are over: whoever holds it is at the register. So a ticket
race with the deadline ends either with a valid ticket and no cancellation, or a cancellation
and no ticket (``issue_ticket`` refuses once the deadline has passed, under the same row lock).
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from backoffice.errors import DomainError
from backoffice.timeutil import now
from pickup import rules
from pickup.models import Pickup, PickupNoShow, PickupTicket
from shop.models import CancellationReason, Customer, Order, OrderEvent, OrderStatus
from shop.services import orders

log = logging.getLogger(__name__)
S = OrderStatus


def expire_due(*, batch_size: int = 500, max_batches: int | None = None) -> dict:
    """Expire every parcel past its deadline, batch by batch. Returns counts for the job log."""
    totals: Counter[str] = Counter(locked=0, expired=0, closed=0)
    batches = 0
    while max_batches is None or batches < max_batches:
        result = expire_batch(batch_size=batch_size)
        totals.update(result)
        batches += 1
        if result["locked"] < batch_size or not (result["expired"] or result["closed"]):
            break
    return dict(totals)


def expire_batch(*, batch_size: int = 500) -> Counter[str]:
    current = now()
    counts: Counter[str] = Counter(locked=0, expired=0, closed=0)
    with transaction.atomic():
        batch = list(
            Pickup.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("order__customer")
            .filter(status=Pickup.Status.READY, deadline__lt=current)
            .exclude(Exists(_live_tickets(current).filter(pickup=OuterRef("pk"))))
            .order_by("deadline", "pk")[:batch_size]
        )
        counts["locked"] = len(batch)
        if not batch:
            return counts
        # A fresh statement, after the rows are ours: sees every ticket committed before we locked.
        with_live_ticket = set(_live_tickets(current).filter(pickup__in=batch).values_list("pickup_id", flat=True))
        expired, closed = [], []
        for pickup in batch:
            if pickup.pk in with_live_ticket:
                counts["waiting_for_ticket"] += 1
                continue
            if pickup.order.status != S.READY_FOR_PICKUP:  # cancelled or returned by another path
                closed.append(pickup)
                continue
            try:
                orders.cancel(pickup.order, reason=CancellationReason.PICKUP_EXPIRED, actor="system",
                              note="受取期限切れ（返送・手数料なし）")
            except DomainError as exc:  # changed concurrently: the next run looks again
                log.info("pickup %s not expired: %s", pickup.pk, exc.code)
                counts["skipped"] += 1
                continue
            expired.append(pickup)
        _close(expired, Pickup.Status.EXPIRED, current)
        _close(closed, Pickup.Status.CANCELLED, current)
        OrderEvent.objects.bulk_create(
            OrderEvent(order_id=p.order_id, at=current, kind="pickup_returned", actor="system",
                       note=f"受取期限切れのため{p.inquiry_number}を返送（認証キー無効）") for p in expired
        )
        _count_no_shows(expired, current)
        counts["expired"] += len(expired)
        counts["closed"] += len(closed)
    return counts


def _live_tickets(at):
    return PickupTicket.objects.filter(voided_at__isnull=True, redeemed_at__isnull=True, expires_at__gte=at)


def _close(pickups: list[Pickup], status: str, at) -> None:
    """The keys die: the parcel leaves ``ready`` and every open ticket is voided."""
    if not pickups:
        return
    ids = [p.pk for p in pickups]
    Pickup.objects.filter(pk__in=ids).update(status=status, closed_at=at)
    PickupTicket.objects.filter(pickup_id__in=ids, voided_at__isnull=True, redeemed_at__isnull=True).update(
        voided_at=at)


def _count_no_shows(expired: list[Pickup], at) -> None:
    if not expired:
        return
    PickupNoShow.objects.bulk_create(
        [PickupNoShow(customer_id=p.order.customer_id, order_id=p.order_id, occurred_at=at) for p in expired],
        ignore_conflicts=True,
    )
    new_per_customer = Counter(p.order.customer_id for p in expired)
    in_window = dict(
        PickupNoShow.objects.filter(customer_id__in=new_per_customer, occurred_at__gt=at - rules.NO_SHOW_WINDOW)
        .values_list("customer_id").annotate(n=Count("pk")).values_list("customer_id", "n")
    )
    for customer_id, new in new_per_customer.items():
        total = in_window.get(customer_id, 0)
        if total - new < rules.NO_SHOW_REVIEW_THRESHOLD <= total:
            _open_review_case(customer_id, at)


def _open_review_case(customer_id: int, at) -> None:
    """The 3rd no-show within 365 days: an account-review case (fraud report
    ``repeated_pickup_cancellation``) linked to the no-show orders."""
    no_shows = list(
        PickupNoShow.objects.filter(customer_id=customer_id, occurred_at__gt=at - rules.NO_SHOW_WINDOW)
        .order_by("occurred_at", "pk")
    )
    customer = Customer.objects.get(pk=customer_id)
    order_list = list(Order.objects.filter(pk__in=[n.order_id for n in no_shows]).order_by("placed_at"))
    reference = open_fraud_report(customer, order_list)
    latest = no_shows[-1]
    latest.review_opened, latest.review_reference = True, reference
    latest.save(update_fields=["review_opened", "review_reference"])


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
