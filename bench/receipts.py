"""Receipt rendering benchmark on PostgreSQL (issue 18 "Must show").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_receipts .venv/bin/python bench/receipts.py

(Re)creates its own scratch database (the DATABASE_URL's name, default ``kb_bench_receipts``),
migrates it, bulk-creates ``--orders`` (default 1,000) paid card orders of ``--lines`` lines each
(alternating 8% and 10%), then measures two things over all of them:

- **issue + PDF**: ``receipts.services.issue`` (the order's row lock, the reads, the receipt and
  its recorded issue) followed by ``receipts.pdf.render`` — what ``GET /orders/{n}/receipt``
  does per request, without HTTP;
- **PDF only**: ``receipts.pdf.render`` of the recorded content again (a staff re-print).

It checks every PDF starts with ``%PDF-`` and every order has exactly one issue, then prints
receipts/s for each, the mean PDF size and the process's peak RSS. Targets (decision, issue 18
gives none): issue + PDF ≥ 50 receipts/s, peak RSS < 250 MB. The database is dropped at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, peak_rss_mb, scratch_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_receipts"
MIN_RATE = 50  # receipts/s, issue + PDF (decision: far above what customers click)
MAX_PEAK_RSS_MB = 250


def create_paid_orders(n: int, lines: int) -> list[int]:
    from django.db import transaction

    from backoffice.timeutil import now
    from payments.models import Payment
    from shop.models import Customer, Listing, Order, OrderLine, Seller

    with transaction.atomic():
        seller = Seller.objects.create(name="ベンチ公式ストア")
        listings = Listing.objects.bulk_create(
            Listing(seller=seller, sku=f"RCPT-{i:03d}", title=f"ベンチ商品{i} おにぎり・緑茶・文庫本の詰め合わせ",
                    price=108 + 37 * i, stock=0, fulfilled_by="platform", tax_rate=8 if i % 2 else 10)
            for i in range(lines))
        total = sum(li.price for li in listings)
        customers = Customer.objects.bulk_create(
            Customer(external_id=f"rcpt-{i}", email=f"rcpt{i}@example.jp", name=f"ベンチ顧客{i}") for i in range(n))
        placed = now()
        orders = Order.objects.bulk_create(
            Order(number=f"800-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer=c, status="processing",
                  total=total, shipping_speed="standard", payment_method="card", destination_type="home",
                  postal_code="100-0001", prefecture="東京都", city="千代田区", address_line="千代田1-1",
                  recipient_name="山田太郎", recipient_phone="+81312345678", placed_at=placed)
            for i, c in enumerate(customers))
        OrderLine.objects.bulk_create(
            OrderLine(order=o, listing=li, sku=li.sku, title=li.title, quantity=1 + j % 3, unit_price=li.price,
                      tax_rate=li.tax_rate)
            for o in orders for j, li in enumerate(listings))
        Payment.objects.bulk_create(
            Payment(order=o, method="card", amount=total, status="paid", captured_amount=total, paid_at=placed)
            for o in orders)
    return [o.pk for o in orders]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    db_url = scratch_database("bench/receipts.py", DEFAULT_DB, broker="memory://localhost/",
                              var_dir="/tmp/kb-bench-receipts")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from receipts import pdf, services
        from receipts.models import ReceiptIssue
        from shop.models import Order

        call_command("migrate", verbosity=0)
        print(f"bench/receipts.py — PostgreSQL, {os.cpu_count()} CPUs, {args.orders:,} orders × {args.lines} lines")
        t0 = time.perf_counter()
        ids = create_paid_orders(args.orders, args.lines)
        print(f"setup {time.perf_counter() - t0:.1f}s")

        size = 0
        t0 = time.perf_counter()
        for order in Order.objects.filter(pk__in=ids).order_by("pk").iterator(chunk_size=500):
            issued = services.issue(order=order, channel=services.Channel.STOREFRONT, actor="storefront:bench")
            content = pdf.render(issued.content)
            assert content.startswith(b"%PDF-")
            size += len(content)
        full = time.perf_counter() - t0
        assert ReceiptIssue.objects.filter(sequence=1).count() == args.orders
        assert not ReceiptIssue.objects.filter(sequence__gt=1).exists()

        contents = list(ReceiptIssue.objects.values_list("content", flat=True))
        t0 = time.perf_counter()
        for content in contents:
            pdf.render(content)
        render_only = time.perf_counter() - t0

        rate, rss = args.orders / full, peak_rss_mb()
        print(f"issue + PDF: {full:6.2f}s  {rate:8,.0f} receipts/s (target ≥ {MIN_RATE}) "
              f"{'OK' if rate >= MIN_RATE else 'BELOW TARGET'}")
        print(f"PDF only:    {render_only:6.2f}s  {args.orders / render_only:8,.0f} receipts/s")
        print(f"mean PDF size: {size / args.orders / 1024:.1f} KiB")
        print(f"peak RSS: {rss:.1f} MB (target < {MAX_PEAK_RSS_MB} MB) {'OK' if rss < MAX_PEAK_RSS_MB else 'ABOVE TARGET'}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(db_url)


if __name__ == "__main__":
    main()
