"""The body of a delivery: the resource as the receiving partner reads it from the API.

- order and refund events: the API.md order resource (``shop.selectors.order_resource``) as
  ``shop.scopes.as_seen_by`` shows it to that partner (a seller: its own lines, no recipient
  contact details of a platform-fulfilled order; the auth number for the storefront only); a
  refund event adds the refund as it appears in the resource's ``refunds``;
- a carrier: its shipment (``carrier``, ``tracking_number``, ``events``) and the order's status;
- a konbini chain: its payment code as ``POST /konbini/payments/lookup`` shows it, and when it died.

Which events a partner gets at all is decided by the same scopes (``in_scope``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder

from backoffice.models import Partner
from backoffice.timeutil import local
from payments.konbini.models import PaymentCode
from payments.models import Refund
from shop import scopes, selectors
from shop.models import Order
from webhooks.models import Event

K = Partner.Kind


def in_scope(partner: Partner, events: Iterable[Event]) -> set[int]:
    """The ids of the events (all of one resource kind) this partner may hear about: one query."""
    events = list(events)
    if not events:
        return set()
    if events[0].payment_code_id is not None:
        visible = set(scopes.payment_codes_for_partner(partner).filter(
            pk__anyof=[e.payment_code_id for e in events]).values_list("pk", flat=True))
        return {e.pk for e in events if e.payment_code_id in visible}
    order_ids = [e.order_id for e in events]
    if partner.kind == K.CARRIER:
        visible = set(scopes.shipments_for_partner(partner).filter(order_id__anyof=order_ids)
                      .values_list("order_id", flat=True))
    else:
        visible = set(scopes.orders_for_partner(partner).filter(pk__anyof=order_ids).values_list("pk", flat=True))
    return {e.pk for e in events if e.order_id in visible}


class Renderer:
    """Bodies for a fan-out batch: each order's resource loaded once (per auth-number view)."""

    def __init__(self, events: list[Event]) -> None:
        order_ids = {e.order_id for e in events if e.order_id}
        self._numbers = dict(Order.objects.filter(pk__anyof=list(order_ids)).values_list("pk", "number")) if order_ids else {}
        refund_ids = [e.refund_id for e in events if e.refund_id]
        self._refunds = {r.pk: r for r in Refund.objects.filter(pk__anyof=refund_ids)} if refund_ids else {}
        code_ids = [e.payment_code_id for e in events if e.payment_code_id]
        self._codes = ({c.pk: c for c in PaymentCode.objects.select_related("payment").filter(pk__anyof=code_ids)}
                       if code_ids else {})
        self._orders: dict[tuple[int, bool], tuple] = {}

    def preload(self, events: list[Event], partner: Partner) -> None:
        """Load the resources of these events as ``partner`` reads them, in one batch."""
        view = partner.kind == K.STOREFRONT
        missing = {e.order_id for e in events if e.order_id and (e.order_id, view) not in self._orders}
        if missing:
            loaded = selectors.order_resources([self._numbers[pk] for pk in missing], with_auth_number=view)
            for pk in missing:
                self._orders[(pk, view)] = loaded.get(self._numbers[pk])

    def _order(self, order_id: int, *, with_auth_number: bool):
        key = (order_id, with_auth_number)
        if key not in self._orders:
            self._orders[key] = selectors.order_resource(self._numbers[order_id], with_auth_number=with_auth_number)
        return self._orders[key]

    def data(self, event: Event, partner: Partner) -> dict | None:
        if event.payment_code_id:
            return code_resource(self._codes[event.payment_code_id])
        found = self._order(event.order_id, with_auth_number=partner.kind == K.STOREFRONT)
        if found is None:
            return None
        loaded, document = found
        if partner.kind == K.CARRIER:
            return {**(document["shipment"] or {}), "order_status": document["status"]}
        return scopes.as_seen_by(partner, dict(document), fulfilling_seller_id=loaded.fulfilling_seller_id,
                                 line_seller_ids=loaded.line_seller_ids)

    def body(self, event: Event, partner: Partner) -> str | None:
        data = self.data(event, partner)
        if data is None:
            return None
        envelope = envelope_of(event, data)
        if event.refund_id and partner.kind != K.CARRIER:
            envelope["refund"] = refund_resource(self._refunds[event.refund_id])
        return dumps(envelope)


def envelope_of(event: Event, data: dict) -> dict:
    """API.md: ``{"id", "type", "created_at", "data"}``, plus the resource's sequence number (a
    receiver drops an event whose sequence is not above the last it applied for that resource)."""
    kind, _, _ = event.resource.partition(":")
    return {"id": event.public_id, "type": event.type, "created_at": local(event.created_at).isoformat(),
            "resource": kind or None, "sequence": event.sequence, "data": data}


def refund_resource(refund: Refund) -> dict:
    return {"amount": refund.amount, "method": refund.method, "status": refund.status, "reason": refund.reason,
            "created_at": local(refund.created_at).isoformat()}


def code_resource(code: PaymentCode) -> dict:
    payment = code.payment
    return {"payment_number": code.number, "chain": code.chain, "amount": payment.amount,
            "deadline": local(payment.deadline).isoformat() if payment.deadline else None,
            "status": code.status, "voided_at": local(code.voided_at).isoformat() if code.voided_at else None}


def ping_body(event: Event) -> str:
    return dumps(envelope_of(event, {"message": "ping"}))


def dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)

