"""Staff console pages on a large PostgreSQL database (issue 7: "fast on 1M orders").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_staff .venv/bin/python bench/staff_pages.py [--orders N]

(Re)creates its own scratch database (name must start with ``kb_bench``), migrates it and
inserts N orders (default 1,000,000) for 100,000 customers, each with a line, a placement
event and a payment; every other order shipped (tracking number); plus queues: waiting call-backs,
orders on hold, failed refunds, locked pickups, konbini payments due today and fraud reports.
Each table is one ``INSERT … SELECT … FROM generate_series`` (1M orders in a few minutes on two
cores). ``--keep`` keeps the database; ``--reuse`` times the pages again on the kept one
(migrating it first, so a new index is measured without rebuilding). Then it renders
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


# Order numbers look like the shop's (random, never sequential): an affine bijection of the index
# over the 17 digits (the multiplier is odd and not a multiple of 5), so every number is unique.
NUMBER_MOD = 10**17
NUMBER_MUL = 6_364_136_223_846_793
NUMBER_ADD = 1_442_695_040_888_963


def order_number(i: int) -> str:
    d = f"{(i * NUMBER_MUL + NUMBER_ADD) % NUMBER_MOD:017d}"
    return f"{d[:3]}-{d[3:10]}-{d[10:]}"


ORDER_NUMBER_SQL = (f"overlay(overlay(lpad(((i::numeric * {NUMBER_MUL} + {NUMBER_ADD}) %% {NUMBER_MOD})::text, 17, '0') "
                    "placing '-' from 11 for 0) placing '-' from 4 for 0)")


def _insert_select(model, exprs: dict[str, str], source: str, params: dict | None = None) -> int:
    """``INSERT INTO table (...) SELECT <exprs> FROM <source>``: one statement for every row, the
    fields not given taking the model's default (``auto_now``: ``now()``). ``params`` by name."""
    import json

    from django.db import connection
    from django.db.models import JSONField

    quote = connection.ops.quote_name
    names, selects, values = [], [], dict(params or {})
    for field in model._meta.concrete_fields:
        if field.attname in exprs:
            selects.append(exprs[field.attname])
        elif field.primary_key:
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            selects.append("now()")
        elif field.null and not field.has_default():
            continue
        else:
            key = f"default_{field.attname}"
            if isinstance(field, JSONField):
                values[key] = json.dumps(field.get_default())
                selects.append(f"%({key})s::jsonb")
            else:
                values[key] = field.get_db_prep_save(field.get_default(), connection)
                selects.append(f"%({key})s::{field.cast_db_type(connection)}")
        names.append(quote(field.column))
    unknown = set(exprs) - {f.attname for f in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model.__name__}: unknown columns {sorted(unknown)}")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "
                       f"SELECT {', '.join(selects)} FROM {source}", values)
        return cursor.rowcount


def build(n: int) -> None:
    """The data, set-based: each table is one ``INSERT … SELECT … FROM generate_series`` (order
    ``i`` has id ``i + 1``, and so do its line, event and payment), then VACUUM ANALYZE."""
    from datetime import timedelta

    from django.db import connection, transaction

    from backoffice.timeutil import end_of_day_after, now
    from fraud.models import Report
    from payments.models import Payment, Refund
    from payments.services import refunds
    from pickup.models import Pickup, Store
    from shop.models import CallbackRequest, Customer, Listing, Order, OrderEvent, OrderLine, Seller, Shipment

    started = time.perf_counter()
    seller = Seller.objects.create(name="ベンチ公式ストア")
    listing = Listing.objects.create(seller=seller, sku="BENCH-1", title="ベンチ商品", price=1980, stock=0,
                                     fulfilled_by="platform")
    store = Store.objects.create(chain="lawson", code="900001", name="ローソン ベンチ店", prefecture="東京都",
                                address="千代田区1-1")
    every = max(1, n // QUEUE)
    at = now()
    base = at.replace(microsecond=0) - timedelta(days=400)
    p = {"n": n, "every": every, "customers": CUSTOMERS, "base": base, "at": at,
         "step_us": int(timedelta(days=400) / n / timedelta(microseconds=1)),
         "today": end_of_day_after(at, 0), "tomorrow": at + timedelta(days=1),
         "listing": listing.pk, "store": store.pk, "cause": refunds.CANCEL_CAUSE}
    placed = "(%(base)s + i::bigint * %(step_us)s::bigint * interval '1 microsecond')"
    status = ("CASE WHEN i %% %(every)s = 1 THEN 'on_hold' WHEN i %% 4 = 0 THEN 'pending_payment' "
              "WHEN i %% 2 = 1 THEN 'delivered' ELSE 'processing' END")
    konbini = "i %% 4 = 0"
    # Each customer's own street address (as placement normalises it into ``address_key``).
    street = "('千代田' || (i %% %(customers)s %% 1000 + 1) || '-' || (i %% %(customers)s / 1000 + 1))"
    orders = "generate_series(0, %(n)s - 1) AS i"
    queue = "generate_series(%(k)s, %(n)s - 1, %(every)s) AS i"  # the orders i with i % every == k
    steps = [
        ("customers", Customer, {
            "id": "c + 1", "external_id": "'bench-' || c", "email": "'bench' || c || '@example.jp'",
            "name": "'ベンチ顧客' || c", "phone": "'+8190' || lpad(c::text, 8, '0')"},
         "generate_series(0, %(customers)s - 1) AS c", {}),
        ("orders", Order, {
            "id": "i + 1", "number": ORDER_NUMBER_SQL, "customer_id": "i %% %(customers)s + 1", "status": status,
            "total": "1980", "shipping_speed": "'standard'",
            "payment_method": f"CASE WHEN {konbini} THEN 'konbini' ELSE 'card' END",
            "destination_type": "'home'", "postal_code": "'100-0001'", "prefecture": "'東京都'",
            "city": "'千代田区'", "address_line": street, "address_key": f"'東京都千代田区' || {street}",
            "recipient_name": "'山田太郎'",
            "recipient_phone": "'+81312345678'",
            "risk_score": "CASE WHEN i %% %(every)s = 1 THEN 75 ELSE 0 END", "placed_at": placed}, orders, {}),
        ("lines", OrderLine, {
            "id": "i + 1", "order_id": "i + 1", "listing_id": "%(listing)s", "sku": "'BENCH-1'",
            "title": "'ベンチ商品'", "quantity": "1", "unit_price": "1980"}, orders, {}),
        ("events", OrderEvent, {
            "id": "i + 1", "order_id": "i + 1", "at": placed, "kind": "'placed'", "to_status": status,
            "actor": "'bench'"}, orders, {}),
        ("payments", Payment, {
            "id": "i + 1", "order_id": "i + 1", "amount": "1980",
            "method": f"CASE WHEN {konbini} THEN 'konbini' ELSE 'card' END",
            "status": f"CASE WHEN {konbini} THEN 'pending' ELSE 'paid' END",
            "captured_amount": f"CASE WHEN {konbini} THEN 0 ELSE 1980 END",
            "deadline": f"CASE WHEN NOT {konbini} THEN NULL WHEN i %% %(every)s = 4 THEN %(today)s "
                        "ELSE %(base)s END"}, orders, {}),
        ("shipments", Shipment, {
            "order_id": "i + 1", "carrier": "'yamato'",
            "tracking_number": "lpad((i + 1)::text, 11, '0') || ((i + 1) %% 7)"},
         "generate_series(1, %(n)s - 1, 2) AS i WHERE i %% %(every)s <> 1", {}),
        ("failed refunds", Refund, {
            "order_id": "i + 1", "payment_id": "i + 1", "amount": "1980", "method": "'card'", "status": "'failed'",
            "reason": "'support'", "cause": "%(cause)s", "attempts": "5", "last_error": "'sandbox: refused'",
            "created_at": placed, "updated_at": f"{placed} + interval '1 hour'"},
         queue, {"k": 3}),
        ("locked pickups", Pickup, {
            "order_id": "i + 1", "store_id": "%(store)s", "inquiry_number": "'9' || lpad((i + 1)::text, 11, '0')",
            "auth_number": "'1234567'", "arrived_at": placed, "notice_due_at": placed, "deadline": "%(tomorrow)s",
            "consecutive_failures": "5", "locked": "true", "locked_at": placed}, queue, {"k": 2}),
        ("call-backs", CallbackRequest, {
            "customer_id": "i %% %(customers)s + 1", "order_id": "i + 1", "phone": "'+819012345678'",
            "topic": "'ベンチ'", "created_at": placed}, queue, {"k": 5}),
        ("reports", Report, {
            "type": "'other'", "priority": "CASE WHEN i %% 3 = 0 THEN 2 ELSE 1 END",
            "customer_id": "i %% %(customers)s + 1", "filed_by": "'bench'", "created_at": placed}, queue, {"k": 7}),
    ]
    for label, model, exprs, source, extra in steps:
        t = time.perf_counter()
        with transaction.atomic():
            rows = _insert_select(model, exprs, source, {**p, **extra})
        print(f"  {label}: {rows:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
    with connection.cursor() as cursor:
        for model in (Customer, Order, OrderLine, OrderEvent, Payment):  # ids given: move the sequences on
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        t = time.perf_counter()
        cursor.execute("VACUUM (ANALYZE)")  # the visibility map and statistics autovacuum would have by now
        print(f"  vacuum analyze: {time.perf_counter() - t:.1f} s")
    print(f"built {n:,} orders in {time.perf_counter() - started:.0f} s", flush=True)


def search_keys(n: int) -> dict:
    """A few keys to search for, from an order a quarter of the way in."""
    from shop.models import Order

    every = max(1, n // QUEUE)
    i = n // 2 + 1
    while i % 2 == 0 or i % every == 1:  # delivered: odd, not on hold
        i += 1
    sample = Order.objects.select_related("customer", "shipment").get(pk=i + 1)
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
        "address": sample.address_line,
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


SCAN_ROWS_FLAGGED = 10_000  # a scan that read more rows than this is a finding


def plans(query: str) -> list[str]:
    """The search's own lookups, EXPLAIN ANALYZEd; a scan of a big table that reads more than
    ``SCAN_ROWS_FLAGGED`` rows (a sequential one, or an index walked with a filter) is a finding —
    a sequential scan that a LIMIT stops after a few rows is not."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from staff import selectors

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    flagged = []
    with CaptureQueriesContext(connection) as ctx:
        result = selectors.search(query)
        for matches in (result.order_matches, result.customer_matches):  # the partial searches' pages
            if matches is not None:
                list(matches[:selectors.PAGE_SIZE])
    with connection.cursor() as cursor:
        for q in ctx.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + q["sql"])
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node in nodes(plan[0]["Plan"]):
                read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                if node.get("Relation Name") in ("shop_order", "shop_customer", "shop_shipment", "payments_payment") \
                        and "Scan" in node["Node Type"] and read > SCAN_ROWS_FLAGGED:
                    flagged.append(f"{node['Node Type']} on {node['Relation Name']} read {read:,} rows: {q['sql'][:100]}")
    return flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true",
                        help="time the pages on the database a --keep run left (migrated, not rebuilt; implies --keep)")
    args = parser.parse_args()
    args.keep = args.keep or args.reuse

    os.environ["CELERY_BROKER_URL"] = "memory://"  # the page timings never publish
    db_url = scratch_database("bench/staff_pages.py", DEFAULT_DB, broker="memory://", var_dir="/tmp/kb-bench-staff",
                              recreate=not args.reuse)
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
        if args.reuse:
            from shop.models import Order

            args.orders = Order.objects.count()
        else:
            build(args.orders)
        keys = search_keys(args.orders)
        client = Client()
        user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
            "bench", password="bench-password-1")
        client.force_login(user)
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
            ("address search", "/staff/addresses/?q=" + keys["address"]),
        ]
        print(f"bench/staff_pages.py — PostgreSQL, {os.cpu_count()} CPUs, {args.orders:,} orders, "
              f"{CUSTOMERS:,} customers, {RUNS} runs per page")
        print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
        for name, url in pages:
            p50, p95, n = timed(client, url)
            print(f"{name:38} {p50:8.1f} {p95:8.1f} {n:8d}")
        for name in ("order", "tracking", "email", "phone", "name", "partial_number", "email_start"):
            flagged = plans(keys[name])
            print(f"plan of search by {name}: " + ("no large scan" if not flagged else "; ".join(flagged)))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(db_url)


if __name__ == "__main__":
    main()
