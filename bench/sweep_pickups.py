"""Pickup expiry benchmark on PostgreSQL (issue 5 "Performance").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_pickup \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/sweep_pickups.py

(Re)creates its own scratch database (the DATABASE_URL's name, default ``kb_bench_pickup``),
migrates it, bulk-creates 10,000 and then 100,000 card-paid orders whose parcels sit at a
konbini past their pickup deadline, runs the periodic job's code path
(``pickup.services.expiry.expire_due``) over each, checks the outcome and prints parcels/s,
the 100k/10k time ratio and the process's peak RSS. Targets (issues 11 and 16): ≥ 5,000 parcels/s, 100k ≤ 12× the
10k time, peak RSS < 250 MB.

Refunds are enqueued, not executed: Celery is not eager and no worker runs, so each refund's
task goes to the broker (the cancellation messages wait for the message relay) — Redis when
``CELERY_BROKER_URL`` is given (the bench purges that queue at the end), else the in-memory
broker. The first 300 parcels belong to 100 customers (3 no-shows each), so the run also opens
100 fraud reports (``repeated_pickup_cancellation``). The database is dropped unless ``--keep``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import StatementProfile, peak_rss_mb, settle, sweep_main  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_pickup"
CHUNK = 5_000
LISTINGS = 200
STORES = 500
REPEAT_CUSTOMERS = 100  # the first 3 × this many parcels: 3 no-shows each


def base_data():
    from pickup.models import Store
    from shop.models import Listing, Seller

    seller = Seller.objects.create(name="ベンチ公式ストア")
    listings = Listing.objects.bulk_create(
        Listing(seller=seller, sku=f"PICK-{i:04d}", title=f"ベンチ商品{i}", price=1980, stock=0,
                fulfilled_by="platform") for i in range(LISTINGS))
    stores = Store.objects.bulk_create(
        Store(chain=("lawson", "ministop", "familymart")[i % 3], code=f"B{i:05d}", name=f"ベンチ店舗{i}",
              prefecture="東京都", address="千代田区1-1") for i in range(STORES))
    return [listing.pk for listing in listings], [store.pk for store in stores]


def create_expired_parcels(n: int, offset: int, listing_ids: list[int], store_ids: list[int]) -> None:
    """n card-paid orders, shipped, arrived at a konbini 13 days ago, noticed, past the deadline;
    their units are reserved (listings start at stock 0). Bulk inserts in chunks."""
    from django.db import connection, transaction

    from backoffice.checkdigits import seven_dr_number
    from backoffice.timeutil import now
    from payments.models import Payment
    from pickup.models import Pickup
    from pickup.rules import PICKUP_DAYS
    from pickup.services.parcels import auth_number_for, deadline_for
    from shop.models import Customer, Order, OrderEvent, OrderLine, Shipment

    arrived = now().replace(microsecond=0) - timedelta(days=PICKUP_DAYS + 2)
    deadline = deadline_for(arrived)
    for start in range(offset, offset + n, CHUNK):
        stop = min(start + CHUNK, offset + n)
        with transaction.atomic():
            fresh = [i for i in range(start, stop) if i >= 3 * REPEAT_CUSTOMERS or i % 3 == 0]
            customers = {c.external_id: c.pk for c in Customer.objects.bulk_create(
                Customer(external_id=f"pick-{i if i >= 3 * REPEAT_CUSTOMERS else i // 3}", email=f"p{i}@example.jp",
                         name=f"ベンチ顧客{i}") for i in fresh)}
            if start < 3 * REPEAT_CUSTOMERS:
                customers.update(Customer.objects.filter(external_id__startswith="pick-").values_list("external_id", "pk"))

            def customer_of(i: int, customers=customers) -> int:
                return customers[f"pick-{i if i >= 3 * REPEAT_CUSTOMERS else i // 3}"]

            orders = Order.objects.bulk_create(
                Order(number=f"800-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer_id=customer_of(i),
                      status="ready_for_pickup", total=1980, shipping_speed="standard", payment_method="card",
                      destination_type="pickup_store", pickup_store_id=store_ids[i % STORES],
                      placed_at=arrived - timedelta(days=2))
                for i in range(start, stop))
            OrderLine.objects.bulk_create(
                OrderLine(order_id=o.pk, listing_id=listing_ids[o.pk % LISTINGS], sku="PICK", title="ベンチ商品",
                          quantity=1, unit_price=1980) for o in orders)
            OrderEvent.objects.bulk_create(
                OrderEvent(order_id=o.pk, at=arrived, kind="status_changed", from_status="shipped",
                           to_status="ready_for_pickup", actor="bench") for o in orders)
            Payment.objects.bulk_create(
                Payment(order_id=o.pk, method="card", amount=1980, status="paid", captured_amount=1980,
                        gateway_reference=f"ch_{o.pk}", paid_at=arrived - timedelta(days=2)) for o in orders)
            tracking = {o.pk: seven_dr_number(f"{40_000_000_000 + i}") for i, o in zip(range(start, stop), orders,
                                                                                     strict=True)}
            Shipment.objects.bulk_create(
                Shipment(order_id=o.pk, carrier="yamato", tracking_number=tracking[o.pk]) for o in orders)
            Pickup.objects.bulk_create(
                Pickup(order_id=o.pk, store_id=o.pickup_store_id, inquiry_number=tracking[o.pk],
                       auth_number=auth_number_for(o), arrived_at=arrived, notice_due_at=arrived, noticed_at=arrived,
                       deadline=deadline) for o in orders)
            del orders
    with connection.cursor() as cursor:
        settle(cursor)


def run(n: int, offset: int, listing_ids, store_ids) -> float:
    from django.db import connection

    from payments.models import Refund
    from pickup.models import Pickup, PickupNoShow
    from pickup.services.expiry import expire_due
    from shop.models import Listing, Message, Order

    t0 = time.perf_counter()
    create_expired_parcels(n, offset, listing_ids, store_ids)
    setup = time.perf_counter() - t0
    stock_before = sum(Listing.objects.values_list("stock", flat=True))
    profile = StatementProfile()
    t0 = time.perf_counter()
    with connection.execute_wrapper(profile) if os.environ.get("BENCH_PROFILE") else contextlib.nullcontext():
        result = expire_due()
    elapsed = time.perf_counter() - t0
    assert result["expired"] == n, result
    assert not Order.objects.filter(status="ready_for_pickup").exists()
    assert not Pickup.objects.filter(status="ready").exists()
    assert sum(Listing.objects.values_list("stock", flat=True)) == stock_before + n
    assert Refund.objects.filter(status="requested", reason="pickup_expired").count() == offset + n
    assert Message.objects.filter(kind="cancelled").count() == offset + n
    assert PickupNoShow.objects.count() == offset + n
    print(f"{n:>9,} parcels  setup {setup:6.1f}s  expiry {elapsed:6.2f}s  {n / elapsed:9,.0f} parcels/s  "
          f"peak RSS {peak_rss_mb():6.1f} MB")
    if os.environ.get("BENCH_PROFILE"):
        profile.report(elapsed)
    return elapsed


def report_fraud_cases() -> None:
    from fraud.models import Report

    reports = Report.objects.filter(type="repeated_pickup_cancellation").count()
    print(f"fraud reports opened (3rd no-show): {reports}")


def main() -> None:
    sweep_main(script="bench/sweep_pickups.py", doc=__doc__, default_db=DEFAULT_DB, unit="parcels", min_rate=5_000,
               base_data=base_data, run=run, extra_report=report_fraud_cases)


if __name__ == "__main__":
    main()
