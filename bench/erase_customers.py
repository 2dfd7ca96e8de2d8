"""Erasure job benchmark on PostgreSQL (issue 15 "Must show": the erasure job on 100,000 customers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_erasure .venv/bin/python bench/erase_customers.py

(Re)creates its own scratch database (the DATABASE_URL's name, default ``kb_bench_erasure``),
migrates it, bulk-creates 10,000 and then 100,000 closed customers, each with what the erasure
touches — a delivered order with its line, payment and timeline event, two login events, a known
device, a refund bank account, a message, a call-back request — runs the periodic job's code path
(``shop.services.erasure.erase_due``) over each, checks that every one is erased and the books
untouched, and prints customers/s, the 100k/10k time ratio and the process's peak RSS. The database
is dropped at the end unless ``--keep``. Targets (ours; the issue sets none): ≥ 1,000 customers/s,
100k ≤ 12× the 10k time, peak RSS < 250 MB.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import peak_rss_mb, sweep_main  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_erasure"
CHUNK = 5_000


def base_data():
    from shop.models import Listing, Seller

    seller = Seller.objects.create(name="ベンチ公式ストア")
    listing = Listing.objects.create(seller=seller, sku="ERASE-1", title="ベンチ商品", price=1980, stock=0,
                                     fulfilled_by="platform")
    return (listing.pk,)


def create_closed_customers(n: int, offset: int, listing_id: int) -> None:
    """n customers closed an hour ago, each with a delivered order and the personal data the job erases."""
    from django.db import connection, transaction

    from backoffice.timeutil import now
    from fraud.models import KnownDevice, LoginEvent
    from payments.models import BankAccount, Payment
    from shop.models import CallbackRequest, Customer, CustomerClosure, Message, Order, OrderEvent, OrderLine

    closed = now() - timedelta(hours=1)
    placed = closed - timedelta(days=30)
    for start in range(offset, offset + n, CHUNK):
        stop = min(start + CHUNK, offset + n)
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                Customer(external_id=f"erase-{i}", email=f"erase{i}@example.jp", name=f"ベンチ顧客{i}",
                         phone="+819012345678", closed_at=closed) for i in range(start, stop))
            orders = Order.objects.bulk_create(
                Order(number=f"800-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer_id=c.pk, status="delivered",
                      total=1980, shipping_speed="standard", payment_method="card", destination_type="home",
                      postal_code="100-0001", prefecture="東京都", city="千代田区", address_line="千代田1-1",
                      recipient_name="山田太郎", recipient_phone="+81312345678", address_key=f"key-{i}",
                      placed_at=placed)
                for i, c in zip(range(start, stop), customers, strict=True))
            OrderLine.objects.bulk_create(OrderLine(order_id=o.pk, listing_id=listing_id, sku="ERASE-1",
                                                    title="ベンチ商品", quantity=1, unit_price=1980) for o in orders)
            OrderEvent.objects.bulk_create(OrderEvent(order_id=o.pk, at=placed, kind="placed", to_status="processing",
                                                      actor="bench") for o in orders)
            Payment.objects.bulk_create(Payment(order_id=o.pk, method="card", amount=1980, status="paid",
                                                captured_amount=1980, paid_at=placed) for o in orders)
            LoginEvent.objects.bulk_create(
                LoginEvent(customer_id=c.pk, occurred_at=placed, ip="203.0.113.7", user_agent="Mozilla/5.0 (iPhone)",
                           device_id=f"dev-{c.pk}") for c in customers for _ in range(2))
            KnownDevice.objects.bulk_create(KnownDevice(customer_id=c.pk, device_id=f"dev-{c.pk}", first_seen_at=placed)
                                            for c in customers)
            BankAccount.objects.bulk_create(
                BankAccount(customer_id=c.pk, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                            branch_name="東京営業部", account_type="ordinary", account_number="1234567",
                            holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ") for c in customers)
            Message.objects.bulk_create(
                Message(customer_id=c.pk, order_id=o.pk, kind="order_confirmed", subject="ご注文の確認",
                        body="山田太郎 様 千代田1-1", dedupe_key=f"bench:{o.pk}", created_at=placed, emailed_at=placed)
                for c, o in zip(customers, orders, strict=True))
            CallbackRequest.objects.bulk_create(CallbackRequest(customer_id=c.pk, phone="+819012345678", topic="退会")
                                                for c in customers)
            CustomerClosure.objects.bulk_create(
                CustomerClosure(customer_id=c.pk, closed_at=closed, actor="bench",
                                books_retained_until=date(2033, 12, 1)) for c in customers)
            del customers, orders
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run(n: int, offset: int, listing_id: int) -> float:
    from django.db.models import Sum

    from fraud.models import LoginEvent
    from payments.models import BankAccount, Payment
    from shop.models import Customer, CustomerClosure, Message, Order
    from shop.services import erasure

    t0 = time.perf_counter()
    create_closed_customers(n, offset, listing_id)
    setup = time.perf_counter() - t0
    books = Order.objects.aggregate(s=Sum("total"))["s"], Payment.objects.aggregate(s=Sum("captured_amount"))["s"]
    t0 = time.perf_counter()
    erased = erasure.erase_due()
    elapsed = time.perf_counter() - t0
    assert erased == n, erased
    assert not CustomerClosure.objects.filter(erased_at__isnull=True).exists()
    assert not Customer.objects.exclude(email="").exists()
    assert not Order.objects.exclude(address_line="").exists()
    assert not LoginEvent.objects.filter(ip__isnull=False).exists()
    assert not BankAccount.objects.exists() and not Message.objects.exists()
    assert books == (Order.objects.aggregate(s=Sum("total"))["s"], Payment.objects.aggregate(s=Sum("captured_amount"))["s"])
    print(f"{n:>9,} customers  setup {setup:6.1f}s  erasure {elapsed:6.2f}s  {n / elapsed:9,.0f} customers/s  "
          f"batches {-(-n // erasure.ERASE_BATCH_SIZE)}  peak RSS {peak_rss_mb():6.1f} MB")
    return elapsed


def main() -> None:
    sweep_main(script="bench/erase_customers.py", doc=__doc__, default_db=DEFAULT_DB, unit="customers",
               min_rate=1_000, base_data=base_data, run=run)


if __name__ == "__main__":
    main()
