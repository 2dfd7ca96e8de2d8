"""The chains' final daily reports (確報) matched against their preliminary reports (速報), issue 14.

``import_report`` is the one importer: ``POST /konbini/settlements`` and finance's CSV upload both
call it. Each line is matched to a preliminary report by payment number + receipt number:

- ``settled``: the same amount — the receipt and its payment become ``settled``;
- ``amount_differs``: another amount — nothing settles, finance gets a case;
- ``preliminary_cancelled``: the register voided that sale (速報取消) but the chain reports the cash;
- ``no_preliminary``: the chain never sent the 速報 — the payment is taken now if the order still
  awaits it (the same writes as a confirmation), else finance decides;
- ``order_cancelled``: cash arrived for an order cancelled before payment (seed 003: 支払い期限を
  少し過ぎても間に合う場合もある) — the cash is recorded and its refund requested (gift-card balance by
  default, bank transfer by the customer's choice: ``refunds.methods_for``).

Every discrepancy is a finance case (``payments.konbini.cases``). The same report twice changes
nothing (its digest: the first answer is replayed). Another report for a day already reconciled is
refused unless sent as a correction (訂正): then its lines are diffed against the current report's
— unchanged lines carry over, removed ones are unsettled (a case each), added and changed ones are
matched like a new report's.

Set-based: the matching reads the chain's receipts in chunks of ``CHUNK`` receipt numbers, the
lines and events are written in one stream each (``backoffice.bulksql``), the receipts and payments
settled by one UPDATE each; only the rare unmatched lines go through the per-order services.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction

from backoffice import bulksql, limits
from backoffice.actors import Actor
from backoffice.errors import Conflict, InvalidInput
from backoffice.timeutil import JST, local, now
from payments.konbini import cases, confirmations
from payments.konbini.chains import Chain
from payments.konbini.codes import chain_of
from payments.konbini.models import PaymentCode, PaymentReceipt, SettlementCase, SettlementLine, SettlementReport
from payments.models import Payment
from payments.services import payment_status, refunds
from shop import events, scopes, states
from shop.models import Order, OrderStatus

OUT = SettlementLine.Outcome
R = PaymentReceipt.Status
CHUNK = 10_000
# Decision: a day's final report comes within days; one older than this is a typo, not a report.
MAX_REPORT_AGE = timedelta(days=366)
MAX_LINE_AMOUNT = 300_000  # seed 003: konbini payments above 300,000 yen do not exist (KONBINI_MAX_TOTAL)
# The cause of the refund of cash that arrived for a cancelled order (one per receipt).
LATE_CASH_REFUND_REASON = "konbini_cash_after_cancel"
CASE_OF = {OUT.NO_PRELIMINARY: SettlementCase.Kind.NO_PRELIMINARY, OUT.AMOUNT_DIFFERS: SettlementCase.Kind.AMOUNT_DIFFERS,
           OUT.ORDER_CANCELLED: SettlementCase.Kind.ORDER_CANCELLED,
           OUT.PRELIMINARY_CANCELLED: SettlementCase.Kind.PRELIMINARY_CANCELLED}


@dataclass(frozen=True)
class Line:
    """One line of a final report."""

    payment_number: str
    receipt_number: str
    amount: int
    paid_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return self.payment_number, self.receipt_number


# --- parsing (the API's JSON items and finance's CSV file give the same lines) -----------------------

def _bad(message: str, field: str, params: dict | None = None) -> InvalidInput:
    return InvalidInput(message, params=params, code="invalid", field=field)


def parse_date(raw: object, *, field: str = "settlement_date") -> date:
    if not isinstance(raw, str):
        raise _bad("対象日は YYYY-MM-DD の形式で指定してください。", field)
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise _bad("対象日は YYYY-MM-DD の形式で指定してください。", field) from None
    today = local(now()).date()
    if day > today or day < today - MAX_REPORT_AGE:
        raise InvalidInput("対象日が受け付けられる範囲にありません。", code="time_out_of_range", field=field)
    return day


def _line(chain: Chain, i: int, payment_number: object, receipt_number: object, amount: object,
          paid_at: object) -> Line:
    where = f"items[{i}]"
    if isinstance(payment_number, int) and not isinstance(payment_number, bool):
        payment_number = str(payment_number)
    if not isinstance(payment_number, str) or not payment_number.isascii() or not payment_number.isdigit() \
            or len(payment_number) != chain.digits:
        raise InvalidInput("%(number_name)sは%(digits)s桁の数字で指定してください。",
                           params={"number_name": chain.number_name, "digits": chain.digits}, code="invalid_number",
                           field=f"{where}.payment_number")
    if not isinstance(receipt_number, str) or not receipt_number.strip() or len(receipt_number) > 64 \
            or limits.TEXT_CONTROL_CHARACTERS.search(receipt_number):
        raise _bad("レシート番号を64文字以内で指定してください。", f"{where}.receipt_number")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_LINE_AMOUNT:
        raise _bad("金額は1〜%(max)s円の整数で指定してください。", f"{where}.amount", {"max": f"{MAX_LINE_AMOUNT:,}"})
    if not isinstance(paid_at, str):
        raise _bad("支払日時はタイムゾーン付きのISO 8601形式で指定してください。", f"{where}.paid_at")
    try:
        at = datetime.fromisoformat(paid_at)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _bad("支払日時はタイムゾーン付きのISO 8601形式で指定してください。", f"{where}.paid_at")
    return Line(payment_number, receipt_number, amount, at)


def parse_items(chain_code: str, items: object) -> list[Line]:
    """The JSON ``items`` of ``POST /konbini/settlements`` → lines, or a coded 400 naming the line."""
    chain = chain_of(chain_code)
    if not isinstance(items, list):
        raise _bad("items は配列で指定してください。", "items")
    lines = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad("明細はオブジェクトで指定してください。", f"items[{i}]")
        lines.append(_line(chain, i, item.get("payment_number"), item.get("receipt_number"), item.get("amount"),
                           item.get("paid_at")))
    return _no_duplicates(lines)


# The CSV's columns (a header row is required; Japanese headers as the chains write them are accepted).
CSV_COLUMNS = ("payment_number", "receipt_number", "amount", "paid_at")
_CSV_ALIASES = {"お支払い番号": "payment_number", "払込票番号": "payment_number", "オンライン決済番号": "payment_number",
                "レシート番号": "receipt_number", "金額": "amount", "入金額": "amount", "支払日時": "paid_at"}


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("CSVファイルの文字コードはUTF-8またはShift_JISにしてください。", code="invalid_csv", field="file")


def parse_csv(chain_code: str, data: bytes) -> list[Line]:
    """A chain's settlement file (CSV with a header row) → lines, through the same checks as the API."""
    chain = chain_of(chain_code)
    reader = csv.reader(io.StringIO(_decode(data)))
    header = next(reader, None)
    names = [_CSV_ALIASES.get(h.strip(), h.strip()) for h in header or []]
    if set(CSV_COLUMNS) - set(names):
        raise InvalidInput("CSVの見出し行に %(columns)s の列が必要です。", params={"columns": ", ".join(CSV_COLUMNS)},
                           code="invalid_csv",
                           field="file")
    at = [names.index(c) for c in CSV_COLUMNS]
    lines = []
    for i, row in enumerate(reader):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise InvalidInput("%(line)s行目の列が足りません。", params={"line": i + 2}, code="invalid_csv", field="file")
        number, receipt, amount, paid_at = (row[j].strip() for j in at)
        lines.append(_line(chain, i, number, receipt, int(amount) if amount.isascii() and amount.isdigit() else amount,
                           paid_at))
    return _no_duplicates(lines)


def _no_duplicates(lines: list[Line]) -> list[Line]:
    seen = set()
    for i, line in enumerate(lines):
        if line.key in seen:
            raise InvalidInput("同じお支払い番号とレシート番号の明細が2回含まれています。", code="duplicate_line",
                               field=f"items[{i}]")
        seen.add(line.key)
    return lines


def digest(lines: Iterable[Line]) -> str:
    """The report's identity: its lines, in any order."""
    canon = sorted(f"{x.payment_number}\t{x.receipt_number}\t{x.amount}\t{x.paid_at.astimezone(JST).isoformat()}"
                   for x in lines)
    return hashlib.sha256("\n".join(canon).encode()).hexdigest()


# --- import ------------------------------------------------------------------------------------------

@dataclass
class _Matched:
    """What the chain's receipt of a line says (read in chunks)."""

    receipt_id: int
    status: str
    amount: int
    payment_id: int
    order_id: int
    settlement_date: date | None


def import_report(*, scope: scopes.KonbiniScope, settlement_date: date, lines: list[Line], correction: bool = False,
                  source: str = SettlementReport.Source.API, actor, partner=None) -> dict:
    """Reconcile one chain's final report for ``settlement_date``; returns the answer
    ``{settled, discrepancies, report_id, correction}`` (the same for the same report)."""
    actor = Actor.of(actor)
    key = digest(lines)
    at = now()
    try:
        with transaction.atomic():
            current = (scope.reports().select_for_update()
                       .filter(settlement_date=settlement_date, current=True).first())
            if current is not None and current.digest == key:
                return current.result  # the same report again: nothing changes
            if current is not None and not correction:
                raise Conflict("%(date)sの確報は照合済みです。内容を訂正する場合は訂正として送信してください"
                               "（API: correction: true）。", params={"date": f"{settlement_date:%Y-%m-%d}"},
                               code="already_reconciled", field="settlement_date")
            if current is not None:
                SettlementReport.objects.filter(pk=current.pk).update(current=False)
            report = SettlementReport.objects.create(
                chain=scope.chain, settlement_date=settlement_date, digest=key, line_count=len(lines),
                total=sum(x.amount for x in lines), source=source, partner=partner, actor=actor.label, received_at=at,
                correction_of=current)
            result = _Reconciliation(scope, report, actor, at).run(lines, current)
            report.result = result
            report.diff = result.get("correction") or {}
            report.save(update_fields=["result", "diff"])
    except IntegrityError as exc:  # the same day's report, imported concurrently: the chain sends it again
        raise Conflict("同じ日の確報を処理中です。しばらくしてから再送してください。", code="settlement_in_progress") from exc
    return result


LINE_COLUMNS = ("report_id", "line_no", "payment_number", "receipt_number", "amount", "paid_at", "outcome",
                "receipt_id")


class _Reconciliation:
    """One report's matching and writes (in ``import_report``'s transaction)."""

    def __init__(self, scope: scopes.KonbiniScope, report: SettlementReport, actor: Actor, at: datetime) -> None:
        self.scope, self.report, self.actor, self.at = scope, report, actor, at
        self.chain = chain_of(scope.chain)
        self.day = report.settlement_date
        self.day_text = self.day.isoformat()

    def run(self, lines: list[Line], current: SettlementReport | None) -> dict:
        carried: list[SettlementLine] = []
        diff = None
        todo = lines
        if current is not None:
            todo, carried, removed, diff = self._diff(lines, current)
            self._reverse(removed, diff.pop("_changed_old"))
        outcomes = self._match(todo)
        # (payment number, receipt number, amount, paid at, outcome, receipt id) per line, written in one stream
        rows = [(r.payment_number, r.receipt_number, r.amount, r.paid_at, r.outcome, r.receipt_id) for r in carried]
        rows += [(x.payment_number, x.receipt_number, x.amount, x.paid_at, outcome, receipt_id)
                 for x, (outcome, receipt_id) in zip(todo, outcomes, strict=True)]
        report_id = self.report.pk
        bulksql.insert_tuples(SettlementLine, LINE_COLUMNS,
                              [(report_id, i, *row) for i, row in enumerate(rows, start=1)])
        self._settle()
        self._open_cases(todo, outcomes)
        answer = {"settled": sum(1 for r in rows if r[4] == OUT.SETTLED),
                  "discrepancies": [{"payment_number": r[0], "receipt_number": r[1], "code": r[4]}
                                    for r in rows if r[4] != OUT.SETTLED],
                  "report_id": self.report.pk, "settlement_date": self.day_text,
                  "correction": diff}
        return answer

    # -- matching

    def _receipts(self, lines: list[Line]) -> dict[tuple[str, str], _Matched]:
        """The chain's receipts of these lines by (payment number, receipt number); of a voided and a
        live receipt with the same numbers, the one not voided."""
        found: dict[tuple[str, str], _Matched] = {}
        numbers = sorted({x.receipt_number for x in lines})
        for start in range(0, len(numbers), CHUNK):
            rows = (self.scope.receipts().filter(receipt_number__in=numbers[start:start + CHUNK])
                    .order_by("id").values_list("pk", "receipt_number", "code__number", "status", "amount",
                                                "payment_id", "payment__order_id", "settlement_date"))
            for pk, receipt_number, number, status, amount, payment_id, order_id, day in rows:
                key = (number, receipt_number)
                if key in found and status == R.CANCELLED and found[key].status != R.CANCELLED:
                    continue
                found[key] = _Matched(pk, status, amount, payment_id, order_id, day)
        return found

    def _match(self, lines: list[Line]) -> list[tuple[str, int | None]]:
        receipts = self._receipts(lines)
        outcomes: list[tuple[str, int | None]] = []
        self.to_settle: list[tuple[Line, _Matched]] = []
        for line in lines:
            m = receipts.get(line.key)
            if m is None:
                outcomes.append(self._without_preliminary(line))
            elif m.status == R.CANCELLED:
                outcomes.append((OUT.PRELIMINARY_CANCELLED, m.receipt_id))
            elif m.amount != line.amount:
                outcomes.append((OUT.AMOUNT_DIFFERS, m.receipt_id))
            else:
                if m.status == R.REPORTED:
                    self.to_settle.append((line, m))
                outcomes.append((OUT.SETTLED, m.receipt_id))  # settled by this day's report before: no change
        return outcomes

    def _without_preliminary(self, line: Line) -> tuple[str, int | None]:
        """No 速報 for this line: take the payment now if the order still awaits it, record late cash
        for a cancelled order (and refund it), otherwise leave it to finance."""
        codes = self.scope.codes().filter(number=line.payment_number).select_related("payment")
        code = (codes.exclude(status=PaymentCode.Status.VOID).first()
                or codes.order_by("-created_at", "-id").first())  # a live or paid code, else the newest void one
        if code is None:
            return OUT.NO_PRELIMINARY, None
        order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=code.payment.order_id)
        payment = Payment.objects.get(pk=code.payment_id)  # re-read under the order's lock
        if order.status == OrderStatus.PENDING_PAYMENT and payment.status == Payment.Status.PENDING \
                and code.status == PaymentCode.Status.LIVE:
            if line.amount != payment.amount:
                return OUT.AMOUNT_DIFFERS, None
            return OUT.NO_PRELIMINARY, self._take_payment(order, payment, code, line)
        if order.status == OrderStatus.CANCELLED and payment.status == Payment.Status.VOIDED:
            if line.amount > payment.amount:
                return OUT.AMOUNT_DIFFERS, None
            return OUT.ORDER_CANCELLED, self._late_cash(order, payment, code, line)
        return OUT.NO_PRELIMINARY, None

    def _receipt(self, payment: Payment, code: PaymentCode, line: Line) -> PaymentReceipt:
        return PaymentReceipt(payment=payment, code_id=code.pk, chain=self.chain.code,
                              receipt_number=line.receipt_number, store_code="", amount=line.amount,
                              paid_at=line.paid_at, late=line.paid_at > payment.deadline, recorded_at=self.at,
                              from_settlement=True)

    def _take_payment(self, order: Order, payment: Payment, code: PaymentCode, line: Line) -> int:
        """The confirmation's own writes (``confirmations.record``), then settled with the others."""
        receipt = self._receipt(payment, code, line)
        order.payment, order.code_id = payment, code.pk
        to_status = states.released_status(method=payment.method, digital=order.is_digital, paid=True)
        confirmations.record(self.chain, order, receipt, to_status, actor=self.actor, at=self.at, cause={
            "cause": "konbini_paid_by_settlement", "chain": self.chain.code, "receipt_number": line.receipt_number,
            "settlement_date": self.day_text})
        self.to_settle.append((line, _Matched(receipt.pk, R.REPORTED, line.amount, payment.pk, order.pk, None)))
        return receipt.pk

    def _late_cash(self, order: Order, payment: Payment, code: PaymentCode, line: Line) -> int:
        """Cash for an order cancelled before payment: the money is recorded as settled on its
        (voided) code and goes back to the customer — gift-card balance by default, bank transfer
        by their choice — through the refunds service."""
        receipt = self._receipt(payment, code, line)
        receipt.status, receipt.settled_at, receipt.settlement_date = R.SETTLED, self.at, self.day
        receipt.save(force_insert=True)
        payment_status.move(Payment.objects.filter(pk=payment.pk), from_status=Payment.Status.VOIDED,
                            to_status=Payment.Status.SETTLED, captured_amount=line.amount, paid_at=line.paid_at)
        events.bulk([events.build_konbini_settled(order=order.pk, actor=self.actor, chain=self.chain.code,
                                                  receipt_number=line.receipt_number, settlement_date=self.day_text,
                                                  amount=line.amount, at=self.at)])
        self.late_refunds = getattr(self, "late_refunds", {})
        try:
            with transaction.atomic():
                refund = refunds.request(order=order, amount=line.amount, cause=f"konbini_cash:{receipt.pk}",
                                         reason=LATE_CASH_REFUND_REASON, actor=self.actor)
            self.late_refunds[receipt.pk] = refund.pk
        except Conflict:  # a closed account's balance cannot take it: finance refunds it by hand (the case)
            pass
        return receipt.pk

    # -- writes

    def _settle(self) -> None:
        """The matched receipts and their payments become settled (one UPDATE each), with one
        ``konbini_settled`` event per order; an unsettled-preliminary case they answer is closed."""
        moved = _settle_receipts(self.report, self.at)
        if not self.to_settle:
            return
        if moved != len(self.to_settle):  # a 速報取消 got in between the read and the write: the chain sends it again
            raise Conflict("照合中に速報取消がありました。確報をもう一度送信してください。", code="settlement_in_progress")
        line_of = SettlementLine.objects.filter(report=self.report, outcome__in=SETTLING)
        payments = Payment.objects.filter(pk__in=PaymentReceipt.objects.filter(
            pk__in=line_of.values("receipt_id")).values("payment_id"))
        payment_status.move(payments, from_status=Payment.Status.PAID, to_status=Payment.Status.SETTLED)
        events.insert_konbini_settled_many(
            [(m.order_id, line.receipt_number, line.amount) for line, m in self.to_settle], actor=self.actor,
            chain=self.chain.code, settlement_date=self.day_text, at=self.at)
        cases.close_superseded(SettlementCase.objects.filter(kind=SettlementCase.Kind.UNSETTLED,
                                                             receipt_id__in=line_of.values("receipt_id")),
                               resolution="確報を受信し入金確定", actor=self.actor, at=self.at)

    def _open_cases(self, lines: list[Line], outcomes: list[tuple[str, int | None]]) -> None:
        bad = [(x, o, r) for x, (o, r) in zip(lines, outcomes, strict=True) if o != OUT.SETTLED]
        if not bad:
            return
        line_ids = dict(((n, r), pk) for pk, n, r in SettlementLine.objects.filter(
            report=self.report).exclude(outcome=OUT.SETTLED).values_list("pk", "payment_number", "receipt_number"))
        receipt_info = {pk: (order_id, expected) for pk, order_id, expected in PaymentReceipt.objects.filter(
            pk__in=[r for _, _, r in bad if r]).values_list("pk", "payment__order_id", "payment__amount")}
        orders_by_number = dict(self.scope.codes().filter(number__in=[x.payment_number for x, _, r in bad if not r])
                                .values_list("number", "payment__order_id"))
        late = getattr(self, "late_refunds", {})
        cases.open_cases([SettlementCase(
            kind=CASE_OF[outcome], chain=self.chain.code, day=self.day, payment_number=x.payment_number,
            receipt_number=x.receipt_number, amount=x.amount,
            expected_amount=receipt_info.get(receipt_id, (None, None))[1],
            order_id=receipt_info[receipt_id][0] if receipt_id in receipt_info else orders_by_number.get(x.payment_number),
            receipt_id=receipt_id, line_id=line_ids.get(x.key), refund_id=late.get(receipt_id),
            dedupe_key=f"line:{line_ids.get(x.key)}") for x, outcome, receipt_id in bad], actor=self.actor, at=self.at)

    # -- corrections

    def _diff(self, lines: list[Line], current: SettlementReport):
        old = {(r.payment_number, r.receipt_number): r for r in SettlementLine.objects.filter(report=current)}
        new = {x.key: x for x in lines}
        todo, carried, changed_old = [], [], []
        added = changed = 0
        for x in lines:
            before = old.get(x.key)
            if before is None:
                todo.append(x)
                added += 1
            elif before.amount != x.amount or before.paid_at != x.paid_at:
                todo.append(x)
                changed_old.append(before)
                changed += 1
            else:
                carried.append(before)
        removed = [r for key, r in old.items() if key not in new]
        # Cases of the replaced lines are answered by the correction; the new lines open their own.
        cases.close_superseded(SettlementCase.objects.filter(line__in=[r.pk for r in removed + changed_old]),
                               resolution="確報の訂正で置き換え", actor=self.actor, at=self.at)
        diff = {"corrects_report": current.pk, "added": added, "removed": len(removed), "changed": changed,
                "removed_lines": [{"payment_number": r.payment_number, "receipt_number": r.receipt_number,
                                   "amount": r.amount} for r in removed[:100]],
                "_changed_old": changed_old}
        return todo, carried, removed, diff

    def _reverse(self, removed: list[SettlementLine], changed: list[SettlementLine]) -> None:
        """Lines a correction removed (or changed) no longer settle their preliminaries: back to the
        速報 alone (payment ``paid``); every removed line is a case for finance."""
        old_lines = removed + changed
        receipt_ids = list(PaymentReceipt.objects.filter(
            pk__in=[r.receipt_id for r in old_lines if r.outcome == OUT.SETTLED and r.receipt_id], status=R.SETTLED,
            settlement_date=self.day, from_settlement=False).values_list("pk", flat=True))
        if receipt_ids:
            rows = list(PaymentReceipt.objects.filter(pk__in=receipt_ids).values_list(
                "payment_id", "payment__order_id", "receipt_number"))
            PaymentReceipt.objects.filter(pk__in=receipt_ids).update(status=R.REPORTED, settled_at=None,
                                                                    settlement_date=None, settlement_line=None)
            payment_status.move(Payment.objects.filter(pk__in=[r[0] for r in rows]),
                                from_status=Payment.Status.SETTLED, to_status=Payment.Status.PAID)
            events.bulk([events.build_konbini_settlement_reversed(
                order=order_id, actor=self.actor, chain=self.chain.code, receipt_number=number,
                settlement_date=self.day_text, at=self.at) for _, order_id, number in rows])
        orders_of = dict(PaymentReceipt.objects.filter(pk__in=[r.receipt_id for r in removed if r.receipt_id])
                         .values_list("pk", "payment__order_id"))
        cases.open_cases([SettlementCase(
            kind=SettlementCase.Kind.CORRECTION_REMOVED, chain=self.chain.code, day=self.day,
            payment_number=r.payment_number, receipt_number=r.receipt_number, amount=r.amount,
            order_id=orders_of.get(r.receipt_id), receipt_id=r.receipt_id,
            dedupe_key=f"correction_removed:{self.report.pk}:{r.pk}") for r in removed], actor=self.actor, at=self.at)


# The outcomes whose line settles its receipt: matched, or taken now without a preliminary.
SETTLING = (OUT.SETTLED, OUT.NO_PRELIMINARY)


def _settle_receipts(report: SettlementReport, at: datetime) -> int:
    """The reported receipts the report's lines settle become ``settled``, each pointing at its
    line — one UPDATE … FROM for the whole report; the late cash of cancelled orders (settled
    when recorded) gets its line too. Returns how many were settled."""
    receipt, line = PaymentReceipt._meta.db_table, SettlementLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {receipt} SET status = %s, settled_at = %s, settlement_date = %s, settlement_line_id = l.id "
            f"FROM {line} l WHERE l.report_id = %s AND l.outcome IN (%s, %s) AND l.receipt_id = {receipt}.id "
            f"AND {receipt}.status = %s",
            [R.SETTLED, at, report.settlement_date, report.pk, *SETTLING, R.REPORTED])
        moved = cursor.rowcount
        cursor.execute(
            f"UPDATE {receipt} SET settlement_line_id = l.id FROM {line} l WHERE l.report_id = %s "
            f"AND l.outcome = %s AND l.receipt_id = {receipt}.id",
            [report.pk, OUT.ORDER_CANCELLED])
    return moved
