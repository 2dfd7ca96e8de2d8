"""Demo data for konbini payment (appended to ``manage.py seed_demo``)."""

from __future__ import annotations

from backoffice.timeutil import local
from payments.konbini import codes
from payments.konbini.models import PaymentCode
from shop.models import Listing, OrderStatus, PaymentMethod
from shop.services import orders

DEMO_CUSTOMER = "demo-konbini"


def seed(command) -> None:
    """A pending konbini order with a Lawson code (idempotent: skipped once it exists)."""
    if PaymentCode.objects.filter(payment__order__customer__external_id=DEMO_CUSTOMER).exists():
        command.log("konbini: demo order with a Lawson code already present")
        return
    listing = Listing.objects.filter(fulfilled_by=Listing.FulfilledBy.PLATFORM, digital=False,
                                     price__lte=30_000, stock__gte=1).order_by("pk").first()
    if listing is None:
        command.log("konbini: no platform listing to order — skipped")
        return
    order = orders.place(
        customer_data={"external_id": DEMO_CUSTOMER, "email": f"{DEMO_CUSTOMER}@example.jp",
                       "name": "デモ顧客 コンビニ払い", "phone": "090-1234-5678"},
        items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
        destination=orders.Destination(type="home", postal_code="100-0001", prefecture="東京都", city="千代田区",
                                       address_line="千代田1-1", recipient_name="山田太郎", phone="090-1234-5678"),
        payment_method=PaymentMethod.KONBINI, actor="seed_demo",
    )
    if order.status != OrderStatus.PENDING_PAYMENT:  # e.g. put on hold by a risk rule
        command.log(f"konbini: order {order.number} is {order.status}; no code issued")
        return
    code, payment = codes.issue(order=order, chain_code="lawson", actor="seed_demo")
    command.log(f"konbini: order {order.number} pending_payment, ローソン お支払い番号 {code.number} "
                f"確認番号 {code.check_code} (期限 {local(payment.deadline):%Y-%m-%d %H:%M})")
