"""Reads of finance's reconciliation page (issue 14): per chain and sales day, the preliminary
reports (速報) against the current final report (確報), and the open cases."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from backoffice.timeutil import JST
from payments.konbini.chains import CHAINS
from payments.konbini.models import PaymentReceipt, SettlementCase, SettlementLine

# Decision: the page shows the last two weeks by default (the final reports come within days).
DEFAULT_DAYS = 14


@dataclass
class DayRow:
    chain: str
    day: date
    preliminary_count: int = 0
    preliminary_total: int = 0
    final_count: int = 0
    final_total: int = 0
    open_cases: int = 0
    reported: bool = False  # a final report exists for the day

    @property
    def chain_name(self) -> str:
        return CHAINS[self.chain].name

    @property
    def difference(self) -> int:
        """確報 − 速報 (yen): what the chain will pay beyond (or short of) what the registers reported."""
        return self.final_total - self.preliminary_total


def days(*, since: date, until: date, chain: str | None = None) -> list[DayRow]:
    """One row per chain and day that has any 速報, 確報 or case, newest first — three grouped
    queries, whatever the volume."""
    rows: dict[tuple[str, date], DayRow] = {}

    def row(c: str, d: date) -> DayRow:
        return rows.setdefault((c, d), DayRow(c, d))

    start = since
    end = until + timedelta(days=1)
    # 速報 by the JST day the register took the cash (a voided sale and a receipt the 確報 created are no 速報)
    receipts = (PaymentReceipt.objects.exclude(status=PaymentReceipt.Status.CANCELLED)
                .filter(from_settlement=False, paid_at__gte=datetime.combine(start, time(), JST),
                        paid_at__lt=datetime.combine(end, time(), JST)).annotate(day=TruncDate("paid_at", tzinfo=JST))
                .filter(day__gte=start, day__lt=end))
    lines = SettlementLine.objects.filter(report__current=True, report__settlement_date__gte=start,
                                          report__settlement_date__lt=end)
    cases = SettlementCase.objects.filter(status=SettlementCase.Status.OPEN, day__gte=start, day__lt=end)
    if chain:
        receipts, lines, cases = receipts.filter(chain=chain), lines.filter(report__chain=chain), cases.filter(
            chain=chain)
    for c, d, n, total in receipts.values_list("chain", "day").annotate(n=Count("id"), total=Sum("amount")):
        r = row(c, d)
        r.preliminary_count, r.preliminary_total = n, total or 0
    for c, d, n, total in lines.values_list("report__chain", "report__settlement_date").annotate(
            n=Count("id"), total=Sum("amount")):
        r = row(c, d)
        r.final_count, r.final_total, r.reported = n, total or 0, True
    for c, d, n in cases.values_list("chain", "day").annotate(n=Count("id")):
        row(c, d).open_cases = n
    return sorted(rows.values(), key=lambda r: (-r.day.toordinal(), r.chain))


def open_cases(*, chain: str | None = None, day: date | None = None):
    qs = SettlementCase.objects.filter(status=SettlementCase.Status.OPEN).select_related("order", "refund")
    if chain:
        qs = qs.filter(chain=chain)
    if day:
        qs = qs.filter(day=day)
    return qs.order_by("-day", "chain", "id")


def case(pk: int) -> SettlementCase | None:
    return SettlementCase.objects.select_related("order", "refund").filter(pk=pk).first()


EXPORT_HEADER = ["チェーン", "対象日", "速報件数", "速報合計（円）", "確報件数", "確報合計（円）", "差額（円）",
                 "未対応の確認事項"]


def export_csv(rows: list[DayRow]) -> bytes:
    """The page's table as CSV (UTF-8 with BOM, so that Excel opens the Japanese as it is)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for r in rows:
        writer.writerow([r.chain_name, r.day.isoformat(), r.preliminary_count, r.preliminary_total, r.final_count,
                         r.final_total, r.difference, r.open_cases])
    return "\ufeff".encode() + out.getvalue().encode()
