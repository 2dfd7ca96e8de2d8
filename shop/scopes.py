"""What each partner may reach, one ``*_for_partner(partner)`` per resource (API.md "Basics").

The partner API's views read orders, shipments and customers only through these functions,
never through a model's manager (``tests/security/test_scoping.py`` reads the view modules and
fails on any ``.objects`` or unscoped lookup): tenant isolation by construction, not by a check
each view must remember.

- storefront: every order and customer (it is the shop's own front end);
- warehouse: the platform-fulfilled orders (it ships them);
- seller: the orders with its listings — of a platform-fulfilled order shared with other sellers
  only its own lines, and never the recipient's contact details (``as_seen_by``);
- carrier: the shipments registered with its own carrier code (``Partner.carrier``);
- konbini chain: none of these; its own payment codes and their receipts (速報, 確報) by its chain
  code (``konbini_scope``; ``payment_codes_for_partner`` for its webhook events), its stores and
  parcels in ``pickup``;
- webhooks: every partner its own endpoints and their deliveries (``webhook_endpoints_for_partner``).

Out of scope is "not found", exactly as if it did not exist (its existence must not leak).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from backoffice.errors import Forbidden, NotFound
from backoffice.models import Partner
from payments.konbini.models import PaymentCode, PaymentReceipt, SettlementReport
from shop.models import Customer, Order, OrderLine, Shipment
from shop.services import customers, orders, shipments
from webhooks.models import Delivery, Endpoint

K = Partner.Kind


def _order_not_found() -> NotFound:
    return NotFound("注文が見つかりません。", code="order_not_found")


def orders_for_partner(partner: Partner) -> QuerySet[Order]:
    """The orders ``partner`` is party to."""
    if partner.kind == K.STOREFRONT:
        return Order.objects.all()
    if partner.kind == K.WAREHOUSE:
        return Order.objects.filter(fulfilling_seller__isnull=True)
    if partner.kind == K.SELLER:
        own_line = OrderLine.objects.filter(order=OuterRef("pk"), listing__seller_id=partner.seller_id)
        return Order.objects.filter(Exists(own_line))
    return Order.objects.none()


def is_party_to(partner: Partner, *, fulfilling_seller_id: int | None, line_seller_ids) -> bool:
    """``orders_for_partner`` for an order already loaded (the one-query order document).

    A self-fulfilled order's lines are all its seller's, so "has a line of mine" covers both."""
    if partner.kind == K.STOREFRONT:
        return True
    if partner.kind == K.WAREHOUSE:
        return fulfilling_seller_id is None
    if partner.kind == K.SELLER:
        return partner.seller_id in line_seller_ids
    return False


def order_for(partner: Partner, number: str, *, field: str | None = None) -> Order:
    """The order ``number`` if ``partner`` is party to it, else 404 ``order_not_found``."""
    order = orders_for_partner(partner).filter(number=orders.format_order_number(number)).first()
    if order is None:
        error = _order_not_found()
        error.field = field
        raise error
    return order


def shipments_for_partner(partner: Partner) -> QuerySet[Shipment]:
    """A carrier's own shipments (its carrier code); for the others, those of their orders."""
    if partner.kind == K.CARRIER:
        return Shipment.objects.filter(carrier=partner.carrier) if partner.carrier else Shipment.objects.none()
    return Shipment.objects.filter(order__in=orders_for_partner(partner))


def shipment_for(partner: Partner, tracking_number: str) -> Shipment:
    """The shipment with this tracking number in ``partner``'s scope; any other is 404
    ``shipment_not_found``, exactly as an unknown one (API.md "Carrier")."""
    number = shipments.normalize_tracking_number(tracking_number)
    shipment = shipments_for_partner(partner).select_related("order").filter(tracking_number=number).first()
    if shipment is None:
        raise NotFound("出荷が見つかりません。", code="shipment_not_found")
    return shipment


def customers_for_partner(partner: Partner) -> QuerySet[Customer]:
    """Customers are the storefront's: no other partner reaches one."""
    return Customer.objects.all() if partner.kind == K.STOREFRONT else Customer.objects.none()


def customer_for(partner: Partner, external_id: str, *, field: str | None = None) -> Customer:
    """The customer of ``external_id`` in ``partner``'s scope: 404 unknown (or out of scope), 410
    ``customer_closed`` once the account is closed (seed 003)."""
    customer = customers_for_partner(partner).filter(external_id=external_id).first()
    if customer is None:
        raise NotFound("お客様が見つかりません。", code="customer_not_found", field=field)
    if customer.closed_at is not None:
        raise customers.CustomerClosed()
    return customer


@dataclass(frozen=True)
class KonbiniScope:
    """One chain's own payment codes, receipts and final reports: another chain's are not there
    (its payment number or receipt is "not found", exactly as an unknown one)."""

    chain: str

    def codes(self) -> QuerySet[PaymentCode]:
        return PaymentCode.objects.filter(chain=self.chain)

    def receipts(self) -> QuerySet[PaymentReceipt]:
        return PaymentReceipt.objects.filter(chain=self.chain)

    def reports(self) -> QuerySet[SettlementReport]:
        return SettlementReport.objects.filter(chain=self.chain)


def konbini_scope(partner: Partner) -> KonbiniScope:
    """A konbini chain partner's scope: its own chain code only."""
    if partner.kind != K.KONBINI_CHAIN or not partner.chain:
        raise Forbidden()
    return KonbiniScope(partner.chain)


def konbini_scope_for_staff(chain: str) -> KonbiniScope:
    """Finance works every chain, one at a time (the reconciliation page, the CSV upload)."""
    return KonbiniScope(chain)


# The destination fields that reach a person (API.md order resource): a seller of a
# platform-fulfilled order does not ship it and never sees them.
RECIPIENT_CONTACT_FIELDS = ("postal_code", "city", "address_line", "recipient_name", "phone")


def as_seen_by(partner: Partner, document: dict, *, fulfilling_seller_id: int | None,
               line_seller_ids: tuple[int, ...]) -> dict:
    """The order resource as ``partner`` may read it.

    A seller sees only its own lines (``line_seller_ids`` is aligned with ``document["lines"]``,
    both in line order); of a platform-fulfilled order also no recipient contact details (the
    keys stay, null, so the shape is the same). Everyone else reads the document as it is."""
    if partner.kind != K.SELLER:
        return document
    own = partner.seller_id
    document["lines"] = [line for line, seller_id in zip(document["lines"], line_seller_ids, strict=True)
                         if seller_id == own]
    if fulfilling_seller_id != own and document["destination"]["type"] == "home":
        document["destination"] = {**document["destination"], **dict.fromkeys(RECIPIENT_CONTACT_FIELDS)}
    return document


def payment_codes_for_partner(partner: Partner) -> QuerySet[PaymentCode]:
    """A konbini chain's own payment codes (its chain code); no other partner's."""
    if partner.kind == K.KONBINI_CHAIN and partner.chain:
        return PaymentCode.objects.filter(chain=partner.chain)
    return PaymentCode.objects.none()


def webhook_endpoints_for_partner(partner: Partner) -> QuerySet[Endpoint]:
    """The partner's own webhook endpoints (a deleted one is gone)."""
    return Endpoint.objects.filter(partner=partner, deleted_at__isnull=True)


def webhook_endpoint_for(partner: Partner, endpoint_id: str) -> Endpoint:
    """One of the partner's endpoints, else 404 ``webhook_endpoint_not_found`` (another partner's too)."""
    endpoint = (webhook_endpoints_for_partner(partner).filter(pk=int(endpoint_id)).first()
                if str(endpoint_id).isdigit() and len(str(endpoint_id)) < 12 else None)
    if endpoint is None:
        raise NotFound("Webhookエンドポイントが見つかりません。", code="webhook_endpoint_not_found")
    return endpoint


def webhook_deliveries_for_partner(partner: Partner) -> QuerySet[Delivery]:
    """The deliveries to the partner's own endpoints."""
    return Delivery.objects.filter(endpoint__partner=partner, endpoint__deleted_at__isnull=True)
