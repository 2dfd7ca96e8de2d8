"""Shipments, tracking numbers and carrier events (SPEC §2, seed 003's tracking tables)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from backoffice.checkdigits import TRACKING_NUMBER_DIGITS, seven_dr_valid
from backoffice.errors import Conflict, Forbidden, InvalidInput, NotFound
from backoffice.normalize import digits
from shop import events
from shop.models import CancellationReason, Order, OrderStatus, PaymentMethod, Shipment, ShipmentEvent
from shop.services import messages, orders

S = OrderStatus
TRACKING_DIGITS = TRACKING_NUMBER_DIGITS


def normalize_tracking_number(value: object, *, field: str = "tracking_number") -> str:
    """12 digits whose last is the 7DR check digit (first 11 digits mod 7); full-width accepted."""
    number = digits(value, field=field, length=TRACKING_DIGITS,
                    message="伝票番号は12桁の数字で入力してください。")
    if not seven_dr_valid(number):
        raise InvalidInput("伝票番号が正しくありません。入力内容をご確認ください。", code="invalid_number", field=field)
    return number


# ``register``'s caller acts as the order's own fulfiller (the demo data, staff tools, tests).
AS_FULFILLER = object()


def register(*, order: Order, carrier: str, tracking_number: str, actor: str,
             shipper_seller_id: int | None | object = AS_FULFILLER) -> Shipment:
    """Hand the parcel to a carrier: order ``processing`` → ``shipped`` and the shipped message.

    ``shipper_seller_id`` is who ships it: ``None`` for the platform's warehouse, a seller's id
    for a seller. Only the order's fulfiller may (SPEC §2: platform-fulfilled orders ship from
    the warehouse, a self-fulfilled order from its seller)."""
    number = normalize_tracking_number(tracking_number)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if shipper_seller_id is not AS_FULFILLER and order.fulfilling_seller_id != shipper_seller_id:
            raise Forbidden("この注文は出荷できません（発送元が異なります）。")
        if order.is_digital:
            raise Conflict("デジタル商品は出荷できません。", code="invalid_transition")
        if order.status != S.PROCESSING:
            raise Conflict("発送準備中の注文のみ出荷登録できます。", code="invalid_transition")
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(order=order, carrier=carrier, tracking_number=number)
        except IntegrityError:
            raise Conflict("この伝票番号は既に登録されています。", code="tracking_number_taken",
                           field="tracking_number") from None
        orders.transition(order, S.SHIPPED, actor=actor, cause="shipped", tracking_number=number)
        messages.notify(customer=order.customer, kind="shipped", order=order, context={"shipment": shipment})
    return shipment


def get_by_tracking_number(tracking_number: str) -> Shipment:
    number = normalize_tracking_number(tracking_number)
    shipment = Shipment.objects.select_related("order").filter(tracking_number=number).first()
    if shipment is None:
        raise NotFound("出荷が見つかりません。", code="shipment_not_found")
    return shipment


def record_event(
    *, shipment: Shipment, type: str, occurred_at: datetime, location: str, store_code: str = "", actor: str
) -> tuple[ShipmentEvent, bool]:
    """Record a carrier event once (same type and time); move the order only forwards.

    Returns (event, created). A late, out-of-order event is kept on the tracking table but
    cannot move the order backwards: only transitions allowed from the current status apply.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        try:
            with transaction.atomic():
                event = ShipmentEvent.objects.create(shipment=shipment, type=type, occurred_at=occurred_at,
                                                     location=location, store_code=store_code)
        except IntegrityError:
            return ShipmentEvent.objects.get(shipment=shipment, type=type, occurred_at=occurred_at), False
        handler = _HANDLERS.get(type)
        if handler is not None:
            handler(order, event, actor)
    return event, True


def _delivered(order: Order, event: ShipmentEvent, actor: str) -> None:
    if order.status != S.SHIPPED or order.destination_type != "home":
        return
    if order.payment_method == PaymentMethod.COD:
        orders.mark_paid(order, amount=order.total, actor=actor, note="代引き集金")
    orders.transition(order, S.DELIVERED, actor=actor, cause="delivered", location=event.location)


def _refused(order: Order, event: ShipmentEvent, actor: str) -> None:
    if order.status != S.SHIPPED:
        return
    reason = CancellationReason.COD_REFUSED if order.payment_method == PaymentMethod.COD else CancellationReason.RETURNED
    orders.cancel(order, reason=reason, actor=actor, location=event.location)
    from shop.services import hooks

    hooks.cod_refused(order)


def _returned(order: Order, event: ShipmentEvent, actor: str) -> None:
    if order.status not in (S.SHIPPED, S.READY_FOR_PICKUP):
        events.pickup(order=order, kind="parcel_returned", actor=actor, location=event.location)
        return
    orders.cancel(order, reason=CancellationReason.RETURNED, actor=actor, location=event.location)


_HANDLERS = {
    ShipmentEvent.Type.DELIVERED: _delivered,
    ShipmentEvent.Type.REFUSED: _refused,
    ShipmentEvent.Type.RETURNED: _returned,
}


def register_handler(event_type: str, handler) -> None:
    """Other apps (pickup/) attach the order effect of a carrier event here."""
    _HANDLERS[event_type] = handler
