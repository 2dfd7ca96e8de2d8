"""Webhook relay benchmark on PostgreSQL (issue 13 "Must show").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_webhooks .venv/bin/python bench/webhooks.py

(Re)creates its own scratch database (default ``kb_bench_webhooks``), starts a real HTTP receiver
(``http.server`` in threads, on 127.0.0.1; ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is set for it) and
bulk-creates 2 × ``--events`` overdue konbini orders. Then:

1. **emission cost**: the konbini expiry sweep (``expire_overdue_payments``, through the cancellation
   core) on the first half with **no** endpoint, then on the second half with a storefront endpoint
   subscribed to ``order.cancelled`` — orders/s for each (one query per batch without subscribers);
2. **relay**: ``--workers`` threads run the outbox relay (tasks in-process, as ``run_periodic_jobs``
   does) until every delivery is delivered: the fan-out (scopes, bodies as the storefront reads the
   order) and the signed POSTs. Prints deliveries/s, the receiver's request count — **at most one
   request per event** on this happy path — and checks a sample of signatures.

The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, peak_rss_mb, scratch_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_webhooks"


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.sample: list[tuple[str, bytes]] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a partner's server would
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    outer.count += 1
                    outer.ids.add(self.headers["Konbini-Event-Id"])
                    if len(outer.sample) < 50:
                        outer.sample.append((self.headers["Konbini-Signature"], body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def create_overdue_konbini_orders(n: int, tag: str) -> None:
    from django.db import transaction

    from backoffice.timeutil import now
    from payments.models import Payment
    from shop.models import Customer, Listing, Order, OrderLine, Seller

    with transaction.atomic():
        seller = Seller.objects.create(name=f"ベンチ{tag}")
        listing = Listing.objects.create(seller=seller, sku=f"WH-{tag}", title="ベンチ商品", price=1980, stock=0,
                                         fulfilled_by="platform")
        customers = Customer.objects.bulk_create(
            Customer(external_id=f"wh-{tag}-{i}", email=f"wh{tag}{i}@example.jp", name=f"顧客{i}") for i in range(n))
        placed = now() - timedelta(days=8)
        orders = Order.objects.bulk_create(
            Order(number=f"9{tag}0-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer=c, status="pending_payment",
                  total=1980, shipping_speed="standard", payment_method="konbini", destination_type="home",
                  postal_code="100-0001", prefecture="東京都", city="千代田区", address_line="千代田1-1",
                  recipient_name="山田太郎", recipient_phone="+81312345678", placed_at=placed)
            for i, c in enumerate(customers))
        OrderLine.objects.bulk_create(OrderLine(order=o, listing=listing, sku=listing.sku, title=listing.title,
                                                quantity=1, unit_price=1980) for o in orders)
        Payment.objects.bulk_create(Payment(order=o, method="konbini", amount=1980, status="pending",
                                            deadline=placed + timedelta(days=1)) for o in orders)


def relay_until_delivered(workers: int, expected: int) -> float:
    from django.db import connection

    from backoffice import outbox
    from webhooks.models import Delivery

    done = threading.Event()

    def work() -> None:
        try:
            while not done.is_set():
                if outbox.relay(limit=200)["published"] == 0:
                    time.sleep(0.01)
        finally:
            connection.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    while Delivery.objects.filter(status="delivered").count() < expected:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    done.set()
    for t in threads:
        t.join()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    db_url = scratch_database("bench/webhooks.py", DEFAULT_DB, broker="memory://localhost/",
                              var_dir="/tmp/kb-bench-webhooks")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # the relay runs each task in-process
    os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from backoffice.models import Partner
        from payments.konbini.expiry import expire_overdue_payments
        from webhooks import services
        from webhooks.models import Delivery, Event
        from webhooks.signing import verify

        call_command("migrate", verbosity=0)
        n = args.events
        print(f"bench/webhooks.py — PostgreSQL, {os.cpu_count()} CPUs, {n:,} events, {args.workers} relay workers")
        t0 = time.perf_counter()
        create_overdue_konbini_orders(n, "1")
        create_overdue_konbini_orders(n, "2")
        print(f"setup {time.perf_counter() - t0:.1f}s")

        from shop.models import Order

        half_1 = list(Order.objects.filter(number__startswith="910-").values_list("pk", flat=True))
        half_2 = list(Order.objects.filter(number__startswith="920-").values_list("pk", flat=True))
        t0 = time.perf_counter()
        assert expire_overdue_payments(order_ids=half_1)["expired"] == n
        no_subscriber = time.perf_counter() - t0
        print(f"expiry sweep, no endpoint:        {n / no_subscriber:8,.0f} orders/s ({no_subscriber:.2f}s)")

        receiver = Receiver()
        partner = Partner(kind=Partner.Kind.STOREFRONT, name="ベンチストア")
        partner.issue_key()
        partner.save()
        endpoint = services.create(partner=partner, url=receiver.url, event_types=["order.cancelled"])
        t0 = time.perf_counter()
        assert expire_overdue_payments(order_ids=half_2)["expired"] == n
        with_subscriber = time.perf_counter() - t0
        print(f"expiry sweep, one endpoint:       {n / with_subscriber:8,.0f} orders/s ({with_subscriber:.2f}s)")
        assert Event.objects.filter(type="order.cancelled").count() == n

        elapsed = relay_until_delivered(args.workers, n)
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        attempts = sum(deliveries.values_list("attempts", flat=True))
        print(f"relay (fan-out + signed POSTs):   {n / elapsed:8,.0f} deliveries/s ({elapsed:.2f}s)")
        per_event = receiver.count / n
        print(f"requests received: {receiver.count:,} for {n:,} events ({per_event:.3f} per event; "
              f"{len(receiver.ids):,} distinct ids; {attempts:,} attempts) "
              f"{'OK' if receiver.count <= n and len(receiver.ids) == n else 'MORE THAN ONE PER EVENT'}")
        ok = all(verify(sig, body, endpoint.secret, at=int(sig.split(',')[0][2:])) for sig, body in receiver.sample)
        sample = json.loads(receiver.sample[0][1])
        print(f"signatures verified on a sample of {len(receiver.sample)}: {'OK' if ok else 'FAILED'}; "
              f"body {len(receiver.sample[0][1])} bytes, data = order {sample['data']['order_number']} "
              f"({sample['data']['status']})")
        print(f"peak RSS: {peak_rss_mb():.1f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(db_url)


if __name__ == "__main__":
    main()
