"""Staff console pages on a large PostgreSQL database (issue 7: "fast on 1M orders").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_staff .venv/bin/python bench/staff_pages.py [--orders N]

(Re)creates its own scratch database (name must start with ``kb_bench``), migrates it and
bulk-creates N orders (default 1,000,000) for 100,000 customers, each with a line, a placement
event and a payment; every other order shipped (tracking number); plus queues: waiting call-backs,
orders on hold, failed refunds, locked pickups and konbini payments due today. Then it renders
each console page in-process (Django test client, logged-in superuser) and prints p50/p95 time
and the number of queries, and for each search the plan of its lookups (any sequential scan of a
large table is flagged). The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, scratch_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_staff"
CHUNK = 10_000
CUSTOMERS = 100_000
QUEUE = 2_000  # rows in each queue (call-backs, holds, failed refunds, locked pickups, due today)
RUNS = 15


def order_number(i: int) -> str:
    return f"{100 + i // 10**14 % 900:03d}-{i // 10**7 % 10**7:07d}-{i % 10**7:07d}"


def build(n: int) -> dict:
    """Bulk inserts in chunks, each in its own transaction; returns a few keys to search for."""
    from datetime import timedelta

    from django.db import connection, transaction

    from backoffice.checkdigits import seven_dr_number
    from backoffice.timeutil import end_of_day_after, now
    from fraud.models import Report
    from payments.models import Payment, Refund
    from payments.services import refunds
    from pickup.models import Pickup, Store
    from shop.models import CallbackRequest, Customer, Listing, Order, OrderEvent, OrderLine, Seller, Shipment

    seller = Seller.objects.create(name="ベンチ公式ストア")
    listing = Listing.objects.create(seller=seller, sku="BENCH-1", title="ベンチ商品", price=1980, stock=0,
                                     fulfilled_by="platform")
    store = Store.objects.create(chain="lawson", code="900001", name="ローソン ベンチ店", prefecture="東京都",
                                address="千代田区1-1")
    for start in range(0, CUSTOMERS, CHUNK):
        Customer.objects.bulk_create(
            Customer(external_id=f"bench-{i}", email=f"bench{i}@example.jp", name=f"ベンチ顧客{i}",
                     phone=f"+8190{i:08d}") for i in range(start, min(start + CHUNK, CUSTOMERS)))
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    base = now().replace(microsecond=0) - timedelta(days=400)
    today_deadline = end_of_day_after(now(), 0)
    step = timedelta(days=400) / n
    every = max(1, n // QUEUE)

    def status(i: int) -> str:
        if i % every == 1:
            return "on_hold"
        return "pending_payment" if i % 4 == 0 else "delivered" if i % 2 else "processing"

    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(number=order_number(i), customer_id=customer_ids[i % CUSTOMERS], status=status(i),
                      total=1980, shipping_speed="standard", payment_method="konbini" if i % 4 == 0 else "card",
                      destination_type="home", postal_code="100-0001", prefecture="東京都", city="千代田区",
                      address_line="千代田1-1", recipient_name="山田太郎", recipient_phone="+81312345678",
                      risk_score=75 if i % every == 1 else 0, placed_at=base + step * i)
                for i in range(start, stop))
            rows = list(zip(range(start, stop), orders, strict=True))
            OrderLine.objects.bulk_create(
                OrderLine(order_id=o.pk, listing_id=listing.pk, sku="BENCH-1", title="ベンチ商品", quantity=1,
                          unit_price=1980) for o in orders)
            OrderEvent.objects.bulk_create(
                OrderEvent(order_id=o.pk, at=o.placed_at, kind="placed", to_status=o.status, actor="bench")
                for o in orders)
            payments = Payment.objects.bulk_create(
                Payment(order_id=o.pk, method=o.payment_method, amount=1980,
                        status="pending" if o.payment_method == "konbini" else "paid",
                        captured_amount=0 if o.payment_method == "konbini" else 1980,
                        deadline=(today_deadline if i % every == 4 else base) if o.payment_method == "konbini" else None)
                for i, o in rows)
            Shipment.objects.bulk_create(
                Shipment(order_id=o.pk, carrier="yamato", tracking_number=seven_dr_number(f"{o.pk:011d}"))
                for o in orders if o.status == "delivered")
            Refund.objects.bulk_create(
                Refund(order_id=o.pk, payment_id=p.pk, amount=1980, method="card", status="failed",
                       reason="support", cause=refunds.CANCEL_CAUSE, attempts=5, last_error="sandbox: refused")
                for (i, o), p in zip(rows, payments, strict=True) if i % every == 3)
            Pickup.objects.bulk_create(
                Pickup(order_id=o.pk, store_id=store.pk, inquiry_number=f"9{o.pk:011d}", auth_number="1234567",
                       arrived_at=o.placed_at, notice_due_at=o.placed_at, deadline=now() + timedelta(days=1),
                       consecutive_failures=5, locked=True, locked_at=o.placed_at)
                for i, o in rows if i % every == 2)
            CallbackRequest.objects.bulk_create(
                CallbackRequest(customer_id=o.customer_id, order_id=o.pk, phone="+819012345678", topic="ベンチ")
                for i, o in rows if i % every == 5)
            Report.objects.bulk_create(
                Report(type="other", priority=2 if i % 3 == 0 else 1, customer_id=o.customer_id, filed_by="bench",
                       created_at=o.placed_at)
                for i, o in rows if i % every == 7)
            del orders, payments, rows
    print(f"built {n:,} orders in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    sample = Order.objects.filter(status="delivered").order_by("pk")[n // 4]
    return {
        "order": sample.number,
        "tracking": sample.shipment.tracking_number,
        "email": sample.customer.email,
        "phone": "0" + sample.customer.phone[3:],
        "customer": sample.customer_id,
        # issue 17: the partial searches (name, part of a number across a hyphen, e-mail start)
        "name": sample.customer.name[:-1],
        "partial_number": sample.number.replace("-", "")[-9:],
        "email_start": sample.customer.email.split("@")[0],
    }


def timed(client, url: str) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code in (200, 302), (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(ctx.captured_queries)


def plans(query: str) -> list[str]:
    """The search's own lookups, EXPLAINed; a Seq Scan on a big table is a finding."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from staff import selectors

    flagged = []
    with CaptureQueriesContext(connection) as ctx:
        result = selectors.search(query)
        for matches in (result.order_matches, result.customer_matches):  # the partial searches' pages
            if matches is not None:
                list(matches[:selectors.PAGE_SIZE])
    with connection.cursor() as cursor:
        for q in ctx.captured_queries:
            cursor.execute("EXPLAIN " + q["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for table in ("shop_order", "shop_customer", "shop_shipment", "payments_payment"):
                if f"Seq Scan on {table}" in plan:
                    flagged.append(f"Seq Scan on {table}: {q['sql'][:120]}")
    return flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    os.environ["CELERY_BROKER_URL"] = "memory://"  # the page timings never publish
    db_url = scratch_database("bench/staff_pages.py", DEFAULT_DB, broker="memory://", var_dir="/tmp/kb-bench-staff")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        keys = build(args.orders)
        client = Client()
        client.force_login(User.objects.create_superuser("bench", password="bench-password-1"))
        pages = [
            ("dashboard", "/staff/"),
            ("search: order number, full-width", "/staff/search/?q=" + keys["order"].translate(
                str.maketrans("0123456789-", "０１２３４５６７８９－"))),
            ("search: tracking number", "/staff/search/?q=" + keys["tracking"]),
            ("search: e-mail", "/staff/search/?q=" + keys["email"]),
            ("search: phone", "/staff/search/?q=" + keys["phone"]),
            ("order page", f"/staff/orders/{keys['order']}/"),
            ("customer page", f"/staff/customers/{keys['customer']}/"),
            ("call-back queue", "/staff/callbacks/"),
            ("call-back queue, page 40", "/staff/callbacks/?page=40"),
            ("review queue", "/staff/review/"),
            ("failed refunds", "/staff/refunds/failed/"),
            ("locked pickups", "/staff/pickups/?show=locked"),
            ("open fraud reports", "/staff/reports/"),
            # issue 17
            ("fraud reports, high priority", "/staff/reports/?priority=high"),
            ("search: customer name (part)", "/staff/search/?q=" + keys["name"]),
            ("search: part of an order number", "/staff/search/?q=" + keys["partial_number"]),
            ("search: start of an e-mail", "/staff/search/?q=" + keys["email_start"]),
            ("konbini payments due today", "/staff/konbini/due-today/"),
            ("closed call-backs", "/staff/callbacks/?show=closed"),
            ("activity log", "/staff/activity/"),
            ("COD-blocked addresses", "/staff/addresses/?blocked=1"),
            ("address search", "/staff/addresses/?q=千代田1-1"),
        ]
        print(f"bench/staff_pages.py — PostgreSQL, {os.cpu_count()} CPUs, {args.orders:,} orders, "
              f"{CUSTOMERS:,} customers, {RUNS} runs per page")
        print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for name, url in pages:
            p50, p95, n = timed(client, url)
            print(f"{name:38} {p50:8.1f} {p95:8.1f} {n:8d}")
        for name in ("order", "tracking", "email", "phone", "name", "partial_number", "email_start"):
            flagged = plans(keys[name])
            print(f"plan of search by {name}: " + ("index lookups only" if not flagged else "; ".join(flagged)))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(db_url)


if __name__ == "__main__":
    main()
