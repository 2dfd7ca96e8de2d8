"""Demo data for the staff console (appended to ``manage.py seed_demo``, after the other apps'):
something in every queue a night shift works — call-backs of different ages (one past its SLA,
one claimed), a parcel locked at the konbini terminal, the Zengin batch for finance, and a
handover note. The failed refund, the COD-blocked address, the held order and the report come
from payments/, fraud/ and pickup/'s seeders."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.contrib.auth.models import User

from backoffice.checkdigits import seven_dr_number
from backoffice.errors import DomainError
from backoffice.timeutil import now
from fraud.models import Report
from payments.models import TransferBatch
from payments.services import bank
from pickup.models import Pickup, Store
from pickup.services import terminal
from shop.models import CallbackRequest, Listing, PaymentMethod, Shipment
from shop.services import customers, orders, shipments
from staff import services

CALLBACKS = [  # (external id, name, topic, minutes ago, claimed by)
    ("demo-callback-1", "デモ顧客 鈴木花子", "コンビニ払いの番号がわからない", 190, ""),
    ("demo-callback-2", "デモ顧客 高橋健", "配達完了になっているが荷物が見当たらない", 75, "staff:agent"),
    ("demo-callback-3", "デモ顧客 田中美咲", "ギフト券の残高について", 20, ""),
]
LOCKED = "demo-pickup-locked"


def seed(command) -> None:
    if CallbackRequest.objects.filter(customer__external_id__startswith="demo-callback").exists():
        command.log("staff: demo queues already present")
        return
    at = now()
    for external_id, name, topic, minutes, claimed_by in CALLBACKS:
        customer = customers.upsert(external_id=external_id, email=f"{external_id}@example.jp", name=name,
                                    phone="090-1234-5678")
        cb = customers.request_callback(customer=customer, phone="090-1234-5678", topic=topic)
        fields = {"created_at": at - timedelta(minutes=minutes)}  # a demo queue has ages
        if claimed_by:
            fields.update(status=CallbackRequest.Status.CLAIMED, claimed_by=claimed_by,
                          claimed_at=at - timedelta(minutes=minutes - 10))
        CallbackRequest.objects.filter(pk=cb.pk).update(**fields)
    command.log(f"staff: {len(CALLBACKS)} call-backs (one past its 2-hour SLA, one claimed by agent)")
    _locked_parcel(command)
    batch = bank.create_batch(actor="seed_demo")
    if batch is not None:
        command.log(f"staff: Zengin batch #{batch.pk} ready for finance ({batch.count} transfers, {batch.total:,}円)")
    elif TransferBatch.objects.exists():
        command.log("staff: Zengin batch already present")
    report = Report.objects.order_by("pk").first()
    admin = User.objects.filter(username="agent").first()
    if report is not None and admin is not None:
        services.add_note(obj=report, user=admin, body="夜間：お客様に折り返し済み。朝番でカード会社の回答を確認してください。")
        command.log(f"staff: a handover note on report #{report.pk}")


def _locked_parcel(command) -> None:
    """A parcel at a Lawson whose terminal locked after 5 wrong authentication numbers (SPEC §4)."""
    store = Store.objects.filter(active=True, chain="lawson").order_by("pk").first()
    listing = Listing.objects.filter(fulfilled_by=Listing.FulfilledBy.PLATFORM, digital=False,
                                     stock__gte=1, price__lte=30_000).order_by("pk").first()
    if store is None or listing is None:
        command.log("staff: no Lawson store or listing — locked parcel skipped")
        return
    order = orders.place(
        customer_data={"external_id": LOCKED, "email": f"{LOCKED}@example.jp", "name": "デモ顧客 受取ロック",
                       "phone": "090-1234-5678"},
        items=[{"sku": listing.sku, "quantity": 1}], shipping_speed="standard",
        destination=orders.Destination(type="pickup_store", store_code=store.code),
        payment_method=PaymentMethod.CARD, card_token="tok_visa", actor="seed_demo",
    )
    if order.status != "processing":
        command.log(f"staff: order {order.number} is {order.status}; locked parcel skipped")
        return
    serial = 40_000_000_000 + Shipment.objects.count()
    while Shipment.objects.filter(tracking_number=seven_dr_number(str(serial))).exists():
        serial += 1
    shipment = shipments.register(order=order, carrier="yamato", tracking_number=seven_dr_number(str(serial)),
                                  actor="seed_demo")
    shipments.record_event(shipment=shipment, type="arrived_at_store", occurred_at=now(), location=store.name,
                           store_code=store.code, actor="seed_demo")
    for _attempt in range(5):
        with contextlib.suppress(DomainError):
            terminal.issue_ticket(chain=store.chain, store_code=store.code, inquiry_number=shipment.tracking_number,
                                  auth_number="0000000", partner="loppi")
    locked = Pickup.objects.filter(order=order, locked=True).exists()
    command.log(f"staff: order {order.number} at {store.name} — {'locked' if locked else 'not locked'} "
                "after 5 wrong authentication numbers")
