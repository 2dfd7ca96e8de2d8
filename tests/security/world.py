"""A small shop with two tenants of every partner kind, for the isolation and fuzz tests.

Tenant "a" of each kind owns the data the requests name (seller A's orders, Lawson's store and
parcel, Yamato's shipment); tenant "b" of the same kind is the neighbour who must not reach it.
"""

from __future__ import annotations

from functools import cached_property

from backoffice.checkdigits import seven_dr_number
from backoffice.models import Partner
from backoffice.timeutil import local, now
from payments.konbini import codes
from pickup.models import Pickup
from pickup.services import terminal
from shop.models import Customer, Listing, Order
from shop.services import shipments
from tests.factories import ListingFactory, StoreFactory, place
from webhooks import services as webhook_services
from webhooks.models import Delivery

K = Partner.Kind

# identity → (kind, extra fields of the partner)
IDENTITIES: dict[str, tuple[str, dict]] = {
    "storefront_a": (K.STOREFRONT, {}),
    "storefront_b": (K.STOREFRONT, {}),
    "lawson": (K.KONBINI_CHAIN, {"chain": "lawson"}),
    "familymart": (K.KONBINI_CHAIN, {"chain": "familymart"}),
    "yamato": (K.CARRIER, {"carrier": "yamato"}),
    "sagawa": (K.CARRIER, {"carrier": "sagawa"}),
    "warehouse_a": (K.WAREHOUSE, {}),
    "warehouse_b": (K.WAREHOUSE, {}),
    "seller_a": (K.SELLER, {}),
    "seller_b": (K.SELLER, {}),
}
ANONYMOUS = "anonymous"
ALL_IDENTITIES = [ANONYMOUS, *IDENTITIES]

_serial = iter(range(41_000_000_000, 42_000_000_000))


def tracking_number() -> str:
    return seven_dr_number(str(next(_serial)))


class World:
    """The partners, and the shop's data built on first use (each test builds only what it names)."""

    def __init__(self, make_client, anon) -> None:
        self.clients = {ANONYMOUS: anon}
        for identity, (kind, extra) in IDENTITIES.items():
            self.clients[identity] = make_client(kind, identity, **extra)

    def client(self, identity: str):
        return self.clients[identity]

    @cached_property
    def customer(self) -> str:
        Customer.objects.get_or_create(external_id="cust-a", defaults={"email": "a@example.jp", "name": "山田花子"})
        return "cust-a"

    @cached_property
    def self_listing(self) -> Listing:
        """Seller A's self-fulfilled listing."""
        return ListingFactory(seller=self.clients["seller_a"].partner.seller, fulfilled_by=Listing.FulfilledBy.SELLER,
                              price=1200)

    @cached_property
    def self_sku(self) -> str:
        return self.self_listing.sku

    @cached_property
    def self_order(self) -> str:
        """Self-fulfilled by seller A, paid by card: processing."""
        return place(self.self_listing, external_id=self.customer).number

    @cached_property
    def shared_listings(self) -> tuple[Listing, Listing]:
        """Platform-fulfilled listings of seller A and seller B."""
        return (ListingFactory(seller=self.clients["seller_a"].partner.seller, price=1000),
                ListingFactory(seller=self.clients["seller_b"].partner.seller, price=2000))

    @cached_property
    def platform_order(self) -> str:
        """Platform-fulfilled, with a line of seller A and one of seller B: processing."""
        return place(*self.shared_listings, external_id=self.customer).number

    @cached_property
    def shipped_tracking(self) -> str:
        """A Yamato shipment of a platform order."""
        order = place(self.shared_listings[0], external_id=self.customer)
        return shipments.register(order=order, carrier="yamato", tracking_number=tracking_number(),
                                  actor="test").tracking_number

    @cached_property
    def konbini_order(self) -> Order:
        return place(self.shared_listings[0], method="konbini", external_id=self.customer)

    @cached_property
    def payment_number(self) -> str:
        """Lawson's code of the konbini order."""
        return codes.issue(order=self.konbini_order, chain_code="lawson", actor="test")[0].number

    @cached_property
    def store_code(self) -> str:
        """A Lawson store."""
        return StoreFactory(chain="lawson", code="LS0001").code

    @cached_property
    def parcel(self) -> Pickup:
        """A parcel (Yamato) ready for pickup at the Lawson store."""
        order = place(self.shared_listings[0], destination={"type": "pickup_store", "store_code": self.store_code},
                      external_id=self.customer)
        shipment = shipments.register(order=order, carrier="yamato", tracking_number=tracking_number(), actor="test")
        shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=now(), location="店舗",
                               store_code=self.store_code, actor="test")
        return Pickup.objects.select_related("store").get(order=order)

    @cached_property
    def ticket_number(self) -> str:
        return terminal.issue_ticket(chain="lawson", store_code=self.store_code,
                                     inquiry_number=self.parcel.inquiry_number,
                                     auth_number=self.parcel.auth_number).ticket.number

    @cached_property
    def webhook(self):
        """Storefront A's webhook endpoint, with one ping delivered to it (pending)."""
        endpoint = webhook_services.create(partner=self.clients["storefront_a"].partner,
                                           url="https://hooks.example.jp/a", event_types=["order.paid"])
        webhook_services.send_ping(endpoint)
        return endpoint

    @cached_property
    def webhook_event_id(self) -> str:
        return Delivery.objects.filter(endpoint=self.webhook).values_list("event__public_id", flat=True).get()


def build_world(make_client, anon) -> World:
    return World(make_client, anon)

def now_iso() -> str:
    return local(now()).isoformat()
