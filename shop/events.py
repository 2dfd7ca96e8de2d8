"""Timeline event builders, one per kind (Saleor's ``order/events.py``)."""

from __future__ import annotations

from backoffice.timeutil import now
from shop.models import Order, OrderEvent

STATUS_CHANGED = "status_changed"
NOTE_MAX_LENGTH = OrderEvent._meta.get_field("note").max_length


def _event(order: Order, kind: str, actor: str, note: str = "", from_status: str = "", to_status: str = "") -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, at=now(), kind=kind, actor=actor, note=note[:NOTE_MAX_LENGTH], from_status=from_status,
        to_status=to_status,
    )


def status_changed(*, order: Order, from_status: str, to_status: str, actor: str, note: str = "") -> OrderEvent:
    return _event(order, STATUS_CHANGED, actor, note, from_status, to_status)


def placed(*, order: Order, actor: str, note: str = "") -> OrderEvent:
    return _event(order, "placed", actor, note, "", order.status)


def note(*, order: Order, kind: str, actor: str, note: str) -> OrderEvent:
    """Anything that is not a status change but belongs on the timeline (a refund, a message...)."""
    return _event(order, kind, actor, note)
