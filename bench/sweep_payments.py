"""Konbini payment expiry benchmark on PostgreSQL (issue 3 "Performance").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_konbini .venv/bin/python bench/sweep_payments.py

(Re)creates its own scratch database (the DATABASE_URL's name, default ``kb_bench_konbini``),
migrates it, bulk-creates 10,000 and then 100,000 overdue konbini orders (each with a line,
a pending payment and a live Lawson code), runs the periodic job's code path
(``payments.konbini.expiry.expire_overdue_payments``) over each, checks the outcome and prints
orders/s, the 100k/10k time ratio and the process's peak RSS. The database is dropped at the
end unless ``--keep``. Targets (issues 11 and 16): ≥ 10,000 orders/s, 100k ≤ 12× the 10k time, peak RSS < 250 MB.
The cancellation messages are created in the job's transaction; the message relay (not run
here) e-mails them, so no e-mail is sent.
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

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_konbini"
CHUNK = 5_000
LISTINGS = 200
CUSTOMERS = 2_000


def base_data():
    from shop.models import Customer, Listing, Seller

    seller = Seller.objects.create(name="ベンチ公式ストア")
    listings = Listing.objects.bulk_create(
        Listing(seller=seller, sku=f"SWEEP-{i:04d}", title=f"ベンチ商品{i}", price=1980, stock=0,
                fulfilled_by="platform") for i in range(LISTINGS))
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"sweep-{i}", email=f"sweep{i}@example.jp", name=f"ベンチ顧客{i}")
        for i in range(CUSTOMERS))
    return [listing.pk for listing in listings], [customer.pk for customer in customers]


def create_overdue_orders(n: int, offset: int, listing_ids: list[int], customer_ids: list[int]) -> None:
    """n konbini orders placed 10 days ago: line, placement event, pending payment (deadline
    passed), live Lawson code; their units are reserved (listings start at stock 0, all sold).
    Bulk inserts in chunks so the process stays small."""
    from django.db import transaction

    from backoffice.checkdigits import luhn_check_digit
    from backoffice.timeutil import now
    from payments.konbini.chains import CHAINS, payment_deadline
    from payments.konbini.models import PaymentCode
    from payments.models import Payment
    from shop.models import Order, OrderEvent, OrderLine

    lawson = CHAINS["lawson"]

    placed = now().replace(microsecond=0) - timedelta(days=10)
    deadline = payment_deadline(placed)
    for start in range(offset, offset + n, CHUNK):
        stop = min(start + CHUNK, offset + n)
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(number=f"900-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer_id=customer_ids[i % CUSTOMERS],
                      status="pending_payment", total=1980, shipping_speed="standard", payment_method="konbini",
                      destination_type="home", postal_code="100-0001", prefecture="東京都", city="千代田区",
                      address_line="千代田1-1", recipient_name="山田太郎", recipient_phone="+81312345678",
                      placed_at=placed)
                for i in range(start, stop))
            OrderLine.objects.bulk_create(
                OrderLine(order_id=o.pk, listing_id=listing_ids[o.pk % LISTINGS], sku="SWEEP", title="ベンチ商品",
                          quantity=1, unit_price=1980) for o in orders)
            OrderEvent.objects.bulk_create(
                OrderEvent(order_id=o.pk, at=placed, kind="placed", to_status="pending_payment", actor="bench")
                for o in orders)
            payments = Payment.objects.bulk_create(
                Payment(order_id=o.pk, method="konbini", amount=1980, status="pending", deadline=deadline)
                for o in orders)
            PaymentCode.objects.bulk_create(
                PaymentCode(payment_id=p.pk, chain=lawson.code, number=f"{i:0{lawson.digits - 1}d}"
                            + luhn_check_digit(f"{i:0{lawson.digits - 1}d}"), check_code=lawson.check_code,
                            created_at=placed)
                for i, p in zip(range(start, stop), payments, strict=True))
            del orders, payments
    from django.db import connection

    with connection.cursor() as cursor:
        settle(cursor)


def run(n: int, offset: int, listing_ids, customer_ids) -> float:
    from django.db import connection

    from payments.konbini.expiry import expire_overdue_payments
    from payments.konbini.models import PaymentCode
    from shop.models import Listing, Message, Order

    t0 = time.perf_counter()
    create_overdue_orders(n, offset, listing_ids, customer_ids)
    setup = time.perf_counter() - t0
    stock_before = sum(Listing.objects.values_list("stock", flat=True))
    profile = StatementProfile()
    t0 = time.perf_counter()
    with connection.execute_wrapper(profile) if os.environ.get("BENCH_PROFILE") else contextlib.nullcontext():
        result = expire_overdue_payments()
    elapsed = time.perf_counter() - t0
    assert result["expired"] == n, result
    assert not Order.objects.filter(status="pending_payment").exists()
    assert sum(Listing.objects.values_list("stock", flat=True)) == stock_before + n
    assert not PaymentCode.objects.filter(status="live").exists()
    assert Message.objects.filter(kind="cancelled").count() == offset + n
    print(f"{n:>9,} orders  setup {setup:6.1f}s  expiry {elapsed:6.2f}s  {n / elapsed:9,.0f} orders/s  "
          f"batches {result['batches']}  peak RSS {peak_rss_mb():6.1f} MB")
    if os.environ.get("BENCH_PROFILE"):
        profile.report(elapsed)
    return elapsed


def main() -> None:
    sweep_main(script="bench/sweep_payments.py", doc=__doc__, default_db=DEFAULT_DB, unit="orders", min_rate=10_000,
               base_data=base_data, run=run)


if __name__ == "__main__":
    main()
