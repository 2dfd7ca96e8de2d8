"""Demo data for konbini pickup (appended to ``manage.py seed_demo``)."""

from __future__ import annotations

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import now
from pickup.models import Pickup, Store
from shop.models import Listing, PaymentMethod, Shipment
from shop.services import orders, shipments

DEMO_CUSTOMER = "demo-pickup"


def seed(command) -> None:
    """A card order waiting at a FamilyMart, ready for pickup (idempotent)."""
    if Pickup.objects.filter(order__customer__external_id=DEMO_CUSTOMER).exists():
        command.log("pickup: demo parcel already present")
        return
    store = Store.objects.filter(active=True, chain="familymart").order_by("pk").first() or \
        Store.objects.filter(active=True).order_by("pk").first()
    listing = Listing.objects.filter(fulfilled_by=Listing.FulfilledBy.PLATFORM, digital=False,
                                     stock__gte=1).order_by("pk").first()
    if store is None or listing is None:
        command.log("pickup: no store or listing — skipped")
        return
    order = orders.place(
        customer_data={"external_id": DEMO_CUSTOMER, "email": f"{DEMO_CUSTOMER}@example.jp",
                       "name": "デモ顧客 コンビニ受取", "phone": "090-1234-5678"},
        items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
        destination=orders.Destination(type="pickup_store", store_code=store.code),
        payment_method=PaymentMethod.CARD, card_token="tok_visa", actor="seed_demo",
    )
    if order.status != "processing":  # e.g. put on hold by a risk rule
        command.log(f"pickup: order {order.number} is {order.status}; not shipped")
        return
    serial = 20_000_000_000 + Shipment.objects.count()
    while Shipment.objects.filter(tracking_number=seven_dr_number(str(serial))).exists():
        serial += 1
    shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(str(serial)),
                                  actor="seed_demo")
    shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=now(), location=store.name,
                           store_code=store.code, actor="seed_demo")
    pickup = Pickup.objects.get(order=order)
    command.log(f"pickup: order {order.number} ready_for_pickup at {store.name} — お問い合わせ番号 "
                f"{pickup.inquiry_number} 認証番号 {pickup.auth_number}")
