"""Login events from the storefront and the new-device message (seed 002: the customer asked
for a notice when someone logs in from an unusual device; support could not see logins)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction

from backoffice.errors import InvalidInput
from backoffice.timeutil import now
from fraud import rules
from fraud.models import KnownDevice, LoginEvent
from shop.models import Customer, Order
from shop.services import messages


def record_login(*, customer: Customer, occurred_at: datetime, ip: str, user_agent: str, device_id: str) -> LoginEvent:
    """Record one login; a device never seen for this customer is ``new_device`` and messaged.

    "Never seen" is the unique (customer, device) row: two simultaneous first logins from one
    device create it once, so exactly one of them is new and one message goes out.
    A login more than ``rules.LOGIN_MAX_CLOCK_SKEW`` in the future is a wrong value: refused.
    """
    if occurred_at > now() + rules.LOGIN_MAX_CLOCK_SKEW:
        raise InvalidInput("occurred_at が未来の日時です。", code="invalid", field="occurred_at")
    with transaction.atomic():
        try:
            with transaction.atomic():
                KnownDevice.objects.create(customer=customer, device_id=device_id, first_seen_at=occurred_at)
            new_device = True
        except IntegrityError:
            new_device = False
        event = LoginEvent.objects.create(customer=customer, occurred_at=occurred_at, ip=ip, user_agent=user_agent,
                                          device_id=device_id, new_device=new_device)
        if new_device:
            messages.notify(customer=customer, kind="new_device_login", context={"login": event},
                            dedupe_key=f"new_device_login:{event.pk}")
    return event


def logins_before(customer_id: int, orders: Iterable[Order]) -> list[LoginEvent]:
    """The customer's logins in the 72 hours before (and up to) the given orders, oldest first:
    what staff need to judge "was this really the customer?" (seed 002)."""
    placed = [o.placed_at for o in orders]
    if not placed:
        return []
    start = min(placed) - rules.LOGINS_BEFORE_ORDERS
    end = max(placed)
    return list(LoginEvent.objects.filter(customer_id=customer_id, occurred_at__gte=start, occurred_at__lte=end)
                .order_by("occurred_at", "id"))
