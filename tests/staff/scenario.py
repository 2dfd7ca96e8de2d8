"""Realistic data for the console's pages, made through the services (as the API would)."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from itertools import count

from backoffice.checkdigits import seven_dr_number
from backoffice.timeutil import JST, local, now
from fraud.services import logins
from payments import jobs
from payments.konbini import codes
from payments.services import bank, refunds
from pickup.services import terminal
from shop.models import CancellationReason, Order
from shop.services import customers, orders, shipments
from tests import factories
from tests.support import relay_through_backoff

_serial = count(1)


def tracking_number() -> str:
    return seven_dr_number(f"{4000_0000_000 + next(_serial):011d}")


def ship(order: Order, carrier: str = "yamato"):
    return shipments.register(order=order, carrier=carrier, tracking_number=tracking_number(), actor="warehouse:川崎")


def seed_003_tracking(order: Order):
    """The seed's first table (Osaka → Wakayama), at yesterday's and today's times of the seed."""
    shipment = ship(order)
    yesterday = local(now()).date() - timedelta(days=1)

    def at(days: int, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(yesterday + timedelta(days=days), time(hour, minute, second), tzinfo=JST)

    for type_, when, depot in [
        ("accepted", at(0, 12, 8), "大阪茨木AFC支店"),
        ("shipped", at(0, 12, 8, 30), "大阪茨木AFC支店"),
        ("in_transit", at(0, 15, 21), "関西ゲートウェイベース"),
        ("delivered", at(1, 9, 44), "紀州有田中央センター"),
    ]:
        shipments.record_event(shipment=shipment, type=type_, occurred_at=when, location=depot,
                               actor="carrier:yamato")
    return shipment


def pickup_order(external_id: str = "pickup-1", *, failed_attempts: int = 0):
    """A parcel waiting at a Lawson; ``failed_attempts`` wrong auth numbers typed at the Loppi."""
    store = factories.StoreFactory(chain="lawson")
    order = factories.place(factories.ListingFactory(price=3480), external_id=external_id,
                            destination={"type": "pickup_store", "store_code": store.code})
    shipment = ship(order)
    shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=now(), location=store.name,
                           store_code=store.code, actor="carrier:yamato")
    relay_through_backoff()  # the pickup-ready notice goes out PICKUP_NOTICE_DELAY after arrival
    for _ in range(failed_attempts):
        with contextlib.suppress(Exception):
            terminal.issue_ticket(chain="lawson", store_code=store.code, inquiry_number=shipment.tracking_number,
                                  auth_number="0000000", partner="loppi")
    order.refresh_from_db()
    return order


def konbini_order_with_code(external_id: str = "konbini-1", chain: str = "familymart"):
    order = factories.place(factories.ListingFactory(price=4980), method="konbini", external_id=external_id)
    codes.issue(order=order, chain_code=chain, actor="storefront")
    return order


def logins_for(customer, *, new_device: bool = True):
    base = now() - timedelta(hours=5)
    logins.record_login(customer=customer, occurred_at=base, ip="203.0.113.10",
                        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", device_id="iphone-home")
    if new_device:
        logins.record_login(customer=customer, occurred_at=base + timedelta(hours=4), ip="198.51.100.77",
                            user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", device_id="pc-unknown")


def callback(customer, topic: str, order: Order | None = None):
    return customers.request_callback(customer=customer, phone="090-1234-5678", topic=topic, order=order)


def transfer_batch(external_id: str = "bank-1", price: int = 7800):
    """A konbini order paid, then cancelled: its refund goes by bank transfer into a batch
    (the outbox relay publishes the refund's processing, which queues it for the batch)."""
    customer = factories.CustomerFactory(external_id=external_id)
    bank.set_bank_account(customer=customer, bank_code="0005", branch_code="001", account_type="ordinary",
                          account_number="1234567", holder_kana="ヤマダ　タロウ", use_for_refunds=True)
    order = factories.place(factories.ListingFactory(price=price), method="konbini", external_id=external_id)
    orders.mark_paid(order, amount=order.total, actor="konbini:lawson")
    orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront")
    relay_through_backoff()
    jobs.batch_bank_transfers()
    from payments.models import TransferBatch

    return TransferBatch.objects.order_by("-pk").first()


def held_order(external_id: str = "hold-1", price: int = 1_000):
    """A digital order right after a login from a new device: 30 + 40 points → on hold (SPEC §5)."""
    customer = factories.CustomerFactory(external_id=external_id)
    logins.record_login(customer=customer, occurred_at=now() - timedelta(hours=1), ip="198.51.100.7",
                        user_agent="Mozilla/5.0 (Windows NT 10.0)", device_id="unknown-pc")
    return factories.place(factories.ListingFactory(price=price, digital=True, title="動画レンタル"),
                           external_id=external_id)


def failed_card_refund(captured, external_id: str = "refund-fail"):
    """A cancelled card order whose refund the gateway refuses for good: it lands in the failed queue."""
    order = factories.place(factories.ListingFactory(price=2_500), external_id=external_id,
                            card_token="tok_refund_fail")
    with captured(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront")
    return order.refunds.get()


def refunds_in_every_state(captured):
    """A delivered card order (the gateway refuses its card refunds) with three returns: 3,000円
    failed and re-issued to the gift-card balance (succeeded), 2,000円 failed, 1,000円 requested."""
    order = factories.place(factories.ListingFactory(price=12_800), external_id="refunds-mixed",
                            card_token="tok_refund_fail")
    seed_003_tracking(order)
    with captured(execute=True):
        first = refunds.refund_return(order=order, amount=3_000, actor="staff:test", reference="RMA-1")
    with captured(execute=True):
        refunds.retry(refund_id=first.pk, actor="staff:test", to_gift_card=True)
    with captured(execute=True):
        refunds.refund_return(order=order, amount=2_000, actor="staff:test", reference="RMA-2")
    with captured(execute=False):  # its task has not run yet
        refunds.refund_return(order=order, amount=1_000, actor="staff:test", reference="RMA-3")
    return order
