"""A parcel at the konbini: arrival, the pickup keys, the pickup-ready notice, the reminder and
the staff resend (SPEC §4, seeds 000 and 001).

The keys work from the carrier's ``arrived_at_store`` report (seed 000: usable before the
mail). The pickup-ready message goes out ``PICKUP_NOTICE_DELAY`` later: an outbox task due at
that time is the fast path, ``send_due_notices`` the sweep that catches a lost task. Both go
through ``_send_notice_locked``, which sends exactly once (row lock + ``noticed_at`` + the
message's unique dedupe key).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from backoffice import outbox
from backoffice.errors import Conflict
from backoffice.normalize import nfkc
from backoffice.timeutil import end_of_day_after, local, now
from payments.konbini.chains import CHAINS
from pickup import rules
from pickup.models import Pickup
from shop import events
from shop.models import Order, OrderStatus, ShipmentEvent
from shop.services import messages, orders

S = OrderStatus


NOTICE_TASK = "pickup.send_pickup_notice"


def auth_number_for(order: Order) -> str:
    """認証番号: the last 7 digits of the order number (seeds 000/001), or 7 random digits when
    ``PICKUP_AUTH_NUMBER_SOURCE=random`` (SPEC §4 decision: the seed's 「ちょっと怖い仕様」 lets
    anyone who reads the shipping mail derive it)."""
    if settings.PICKUP_AUTH_NUMBER_SOURCE == "random":
        return f"{secrets.randbelow(10 ** rules.AUTH_NUMBER_DIGITS):0{rules.AUTH_NUMBER_DIGITS}d}"
    return order.number.replace("-", "")[-rules.AUTH_NUMBER_DIGITS:]


def deadline_for(notice_at: datetime) -> datetime:
    """23:59:59 JST on the notice date + 11 days (seed 001: メールの受信日から11日以内)."""
    return end_of_day_after(notice_at, rules.PICKUP_DAYS)


# --- arrival ----------------------------------------------------------------------------------

def on_arrived_at_store(order: Order, event: ShipmentEvent, actor: str) -> Pickup | None:
    """Carrier handler for ``arrived_at_store`` (attached through shipments.register_handler).

    Runs inside ``record_event``'s transaction with the order locked. Only a shipped order to a
    pickup store, reported at that very store, becomes ``ready_for_pickup``; anything else stays
    on the tracking table with a note on the timeline and moves nothing.
    """
    if order.destination_type != "pickup_store" or order.status != S.SHIPPED:
        events.pickup(order=order, kind="pickup_arrival_ignored", actor=actor, status=order.status)
        return None
    store = order.pickup_store
    if nfkc(event.store_code) != store.code:
        events.pickup(order=order, kind="pickup_arrival_ignored", actor=actor, reported_store=event.store_code,
                      store=store.code)
        return None
    notice_due_at = event.occurred_at + settings.PICKUP_NOTICE_DELAY
    pickup = Pickup.objects.create(
        order=order, store=store, inquiry_number=order.shipment.tracking_number, auth_number=auth_number_for(order),
        # Until the notice goes out (and fixes it from the notice date) the deadline counts from
        # the arrival date: never later than the real one, so nothing waits past its window.
        arrived_at=event.occurred_at, notice_due_at=notice_due_at, deadline=deadline_for(event.occurred_at),
    )
    orders.transition(order, S.READY_FOR_PICKUP, actor=actor, cause="arrived_at_store", store=store.name)
    # Due at the notice time: the outbox holds it until then (the broker never holds a countdown).
    outbox.enqueue(NOTICE_TASK, pickup.pk, at=notice_due_at)
    return pickup


# --- the pickup-ready notice ------------------------------------------------------------------

def message_context(pickup: Pickup) -> dict:
    store = pickup.store
    return {
        "store": store,
        "chain_name": CHAINS[store.chain].name,
        "terminal": store.terminal,
        "steps": rules.TERMINAL_STEPS[store.terminal],
        "inquiry_number": pickup.inquiry_number,
        "auth_number": pickup.auth_number,
        "inquiry_digits": rules.INQUIRY_NUMBER_DIGITS,
        "auth_digits": rules.AUTH_NUMBER_DIGITS,
        "deadline": local(pickup.deadline),
        "pickup_days": rules.PICKUP_DAYS,
        "ticket_minutes": int(rules.TICKET_VALIDITY.total_seconds() // 60),
    }


def _locked(pickup_id: int) -> Pickup | None:
    return (Pickup.objects.select_for_update(of=("self",)).select_related("order__customer", "store")
            .filter(pk=pickup_id).first())


def is_live(pickup: Pickup, order_status: str, at: datetime | None = None) -> bool:
    """The one rule of a parcel whose keys work: ``ready`` at the store and its order still
    ``ready_for_pickup`` (a carrier return or a staff cancellation kills the keys at once, before
    the expiry job closes the parcel) and, given ``at``, not past its deadline. ``LIVE`` is the
    same rule (without the deadline) for querysets of parcels."""
    return (pickup.status == Pickup.Status.READY and order_status == S.READY_FOR_PICKUP
            and (at is None or at <= pickup.deadline))


LIVE = Q(status=Pickup.Status.READY, order__status=S.READY_FOR_PICKUP)


def _is_live(pickup: Pickup) -> bool:
    return is_live(pickup, pickup.order.status)


def _send_notice_locked(pickup: Pickup, *, actor: str) -> bool:
    """Send the pickup-ready message once; the deadline starts from the day it is sent."""
    if pickup.noticed_at is not None or not _is_live(pickup):
        return False
    pickup.noticed_at = now()
    pickup.deadline = deadline_for(pickup.noticed_at)
    pickup.save(update_fields=["noticed_at", "deadline"])
    order = pickup.order
    messages.notify(customer=order.customer, kind="pickup_ready", order=order, context=message_context(pickup),
                    dedupe_key=f"pickup_ready:{order.number}")
    events.pickup(order=order, kind="pickup_notice_sent", actor=actor, deadline=pickup.deadline)
    return True


def send_notice(pickup_id: int, *, actor: str = "system") -> bool:
    """The countdown task's service: send the notice if it is due and not sent yet."""
    with transaction.atomic():
        pickup = _locked(pickup_id)
        if pickup is None or pickup.notice_due_at > now():
            return False  # early (an eager or clock-skewed run): the sweep sends it when due
        return _send_notice_locked(pickup, actor=actor)


def send_due_notices(*, batch_size: int = 200) -> int:
    """Sweep: send every overdue notice (a lost countdown task), exactly once, batch by batch."""
    with transaction.atomic():
        batch = list(
            Pickup.objects.select_for_update(of=("self",), skip_locked=True).select_related("order__customer", "store")
            .filter(LIVE, noticed_at__isnull=True, notice_due_at__lte=now())
            .order_by("notice_due_at")[:batch_size]
        )
        return sum(_send_notice_locked(pickup, actor="system") for pickup in batch)


def resend_notice(pickup: Pickup, *, actor: str) -> Pickup:
    """Staff resend (seed 001: 再送の手配). The deadline does not move."""
    with transaction.atomic():
        pickup = _locked(pickup.pk)
        if not _is_live(pickup):
            raise Conflict("受取可能な荷物ではないため、お知らせを再送できません。", code="pickup_not_ready")
        if _send_notice_locked(pickup, actor=actor):  # never sent yet: this is the first notice
            return pickup
        pickup.notice_resent_count += 1
        pickup.save(update_fields=["notice_resent_count"])
        order = pickup.order
        messages.notify(customer=order.customer, kind="pickup_ready", order=order, context=message_context(pickup),
                        dedupe_key=f"pickup_ready:{order.number}:resend:{pickup.notice_resent_count}")
        events.pickup(order=order, kind="pickup_notice_resent", actor=actor)
    return pickup


# --- the reminder -----------------------------------------------------------------------------

def send_reminders(*, batch_size: int = 200) -> int:
    """Remind once, 3 days before the deadline, every parcel still waiting (SPEC §6)."""
    current = now()
    with transaction.atomic():
        batch = list(
            Pickup.objects.select_for_update(of=("self",), skip_locked=True).select_related("order__customer", "store")
            .filter(LIVE, noticed_at__isnull=False,
                    reminder_sent_at__isnull=True, deadline__gte=current,
                    deadline__lte=current + rules.REMINDER_BEFORE_DEADLINE)
            .order_by("deadline")[:batch_size]
        )
        for pickup in batch:
            pickup.reminder_sent_at = current
            pickup.save(update_fields=["reminder_sent_at"])
            order = pickup.order
            messages.notify(customer=order.customer, kind="pickup_reminder", order=order,
                            context=message_context(pickup), dedupe_key=f"pickup_reminder:{order.number}")
            events.pickup(order=order, kind="pickup_reminder_sent", actor="system")
    return len(batch)
