"""Konbini final-report (確報) import benchmark on PostgreSQL (issue 14 "Must show").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kb_bench_settlement .venv/bin/python bench/settlement.py

(Re)creates its own scratch database (the DATABASE_URL's name, default ``kb_bench_settlement``),
migrates it and bulk-creates ``--lines`` (default 100,000) paid Lawson konbini orders, each with its
code and its preliminary report (速報). It then writes the chain's settlement file as CSV — one line
per payment, 0.1% of them with another amount (``amount_differs``) — and measures:

- **parse**: ``settlement.parse_csv`` (the CSV upload's and the API's checks);
- **import**: ``settlement.import_report`` — the matching and every write (lines, receipts and
  payments settled, one ``konbini_settled`` event per order, the finance cases), one transaction;
- **replay**: the same report again (nothing changes: the first answer).

It checks the outcome (every payment settled but the differing ones) and prints lines/s and the
process's peak RSS. Targets (decision, issue 14: set-based, tens of thousands of lines/s):
import ≥ 20,000 lines/s, peak RSS < 500 MB. The database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import StatementProfile, drop_database, peak_rss_mb, scratch_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kb_bench_settlement"
MIN_RATE = 20_000  # lines/s, the import (decision)
MAX_PEAK_RSS_MB = 500
PRICE = 1980


def create_paid_orders(n: int):
    """``n`` paid konbini orders (Lawson) with their codes and preliminary reports, bulk-created."""
    from datetime import timedelta

    from django.db import transaction

    from backoffice.checkdigits import luhn_check_digit
    from backoffice.timeutil import now
    from payments.konbini.models import PaymentCode, PaymentReceipt
    from payments.models import Payment
    from shop.models import Customer, Order

    placed = now() - timedelta(days=1)
    with transaction.atomic():
        customer = Customer.objects.create(external_id="bench-settle", email="settle@example.jp", name="ベンチ顧客")
        orders = Order.objects.bulk_create(
            (Order(number=f"700-{i // 10_000_000:07d}-{i % 10_000_000:07d}", customer=customer, status="processing",
                   total=PRICE, shipping_speed="standard", payment_method="konbini", destination_type="home",
                   postal_code="100-0001", prefecture="東京都", city="千代田区", address_line="千代田1-1",
                   recipient_name="山田太郎", recipient_phone="+81312345678", placed_at=placed) for i in range(n)),
            batch_size=5000)
        payments = Payment.objects.bulk_create(
            (Payment(order=o, method="konbini", amount=PRICE, status="paid", captured_amount=PRICE, paid_at=placed,
                     deadline=placed + timedelta(days=6)) for o in orders), batch_size=5000)
        numbers = [f"{i:010d}" + luhn_check_digit(f"{i:010d}") for i in range(1, n + 1)]
        codes = PaymentCode.objects.bulk_create(
            (PaymentCode(payment=p, chain="lawson", number=numbers[i], check_code="8888", status="paid",
                         created_at=placed) for i, p in enumerate(payments)), batch_size=5000)
        PaymentReceipt.objects.bulk_create(
            (PaymentReceipt(payment=p, code=c, chain="lawson", receipt_number=f"R{i:09d}", store_code="LS0001",
                            amount=PRICE, paid_at=placed, recorded_at=placed)
             for i, (p, c) in enumerate(zip(payments, codes, strict=True))), batch_size=5000)
    return numbers, placed


def settlement_csv(numbers: list[str], paid_at) -> bytes:
    out = io.StringIO()
    out.write("payment_number,receipt_number,amount,paid_at\n")
    stamp = paid_at.isoformat()
    for i, number in enumerate(numbers):
        amount = PRICE - 100 if i % 1000 == 999 else PRICE  # 0.1%: amount_differs
        out.write(f"{number},R{i:09d},{amount},{stamp}\n")
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="database time per statement of the import")
    args = parser.parse_args()
    db_url = scratch_database("bench/settlement.py", DEFAULT_DB, broker="memory://localhost/",
                              var_dir="/tmp/kb-bench-settlement")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from backoffice.timeutil import local
        from payments.konbini import settlement
        from payments.konbini.models import SettlementCase, SettlementLine
        from payments.models import Payment
        from shop import scopes
        from shop.models import OrderEvent

        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        numbers, placed = create_paid_orders(args.lines)
        print(f"bench/settlement.py — PostgreSQL, {os.cpu_count()} CPUs; {args.lines:,} paid konbini orders "
              f"created in {time.perf_counter() - t0:.1f}s")
        data = settlement_csv(numbers, placed)
        day = local(placed).date()
        scope = scopes.konbini_scope_for_staff("lawson")

        t0 = time.perf_counter()
        lines = settlement.parse_csv("lawson", data)
        parse = time.perf_counter() - t0
        profile = StatementProfile()
        t0 = time.perf_counter()
        if os.environ.get("BENCH_CPROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as pr:
                result = settlement.import_report(scope=scope, settlement_date=day, lines=lines, actor="bench",
                                                  source="csv")
            pstats.Stats(pr).sort_stats("tottime").print_stats(20)
        elif args.profile:
            with connection.execute_wrapper(profile):
                result = settlement.import_report(scope=scope, settlement_date=day, lines=lines, actor="bench",
                                                  source="csv")
        else:
            result = settlement.import_report(scope=scope, settlement_date=day, lines=lines, actor="bench",
                                              source="csv")
        took = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = settlement.import_report(scope=scope, settlement_date=day, lines=lines, actor="bench", source="csv")
        replay = time.perf_counter() - t0

        differing = args.lines // 1000
        settled = Payment.objects.filter(status="settled").count()
        assert result["settled"] == args.lines - differing, result["settled"]
        assert len(result["discrepancies"]) == differing and again == result
        assert settled == args.lines - differing, settled
        assert SettlementLine.objects.count() == args.lines
        assert SettlementCase.objects.filter(kind="amount_differs").count() == differing
        assert OrderEvent.objects.filter(kind="konbini_settled").count() == args.lines - differing
        rate, rss = args.lines / took, peak_rss_mb()
        print(f"CSV {len(data) / 1e6:.1f} MB parsed in {parse:.2f}s ({args.lines / parse:,.0f} lines/s)")
        print(f"import: {args.lines:,} lines in {took:.2f}s — {rate:,.0f} lines/s (target ≥ {MIN_RATE:,}) "
              f"{'OK' if rate >= MIN_RATE else 'BELOW TARGET'}; {result['settled']:,} settled, "
              f"{len(result['discrepancies'])} amount_differs")
        print(f"replay of the same report: {replay:.3f}s (nothing written)")
        print(f"peak RSS: {rss:.1f} MB (target < {MAX_PEAK_RSS_MB} MB) {'OK' if rss < MAX_PEAK_RSS_MB else 'ABOVE TARGET'}")
        if args.profile:
            profile.report(took)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(db_url)


if __name__ == "__main__":
    main()
