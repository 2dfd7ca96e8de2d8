"""The chains' side: look a payment number up, then confirm the cash payment (SPEC §3, API.md).

Every check that needs no database comes first (number length and Luhn digit, the 8888 check
code), so a mistyped number is refused before any lookup. The confirmation itself runs in one
transaction holding the order's row lock — the same lock the expiry job takes with
``skip_locked`` — so a payment racing the expiry ends paid or cancelled, never both.
A confirmation is idempotent: the same receipt number gets the same answer and one payment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from backoffice import limits, rawsql
from backoffice.errors import Conflict, Gone, InvalidInput, NotFound
from backoffice.keyed import still
from backoffice.normalize import digits
from backoffice.timeutil import local, now
from payments.konbini.chains import Chain
from payments.konbini.codes import chain_of, parse_number
from payments.konbini.models import PaymentCode, PaymentReceipt
from payments.models import MONEY_RECEIVED, Payment
from pickup.models import PICKUP_CHAINS, Store
from shop import events, states
from shop.models import CancellationReason, Customer, Message, Order, OrderStatus
from shop.services import messages, orders
from webhooks.emit import emit, subscribed_sql


def late_payment_grace() -> timedelta:
    """SPEC §3 / seed 003 (支払い期限を少し過ぎても間に合う場合もある): the setting, read per call."""
    return settings.KONBINI_LATE_PAYMENT_GRACE


def payable_until(payment: Payment) -> datetime:
    """The last moment a confirmation is accepted: deadline + late-payment grace."""
    return payment.deadline + late_payment_grace()


@dataclass(frozen=True)
class CashPayment:
    """What the chain reports for one payment at its register."""

    amount: int
    store_code: str
    paid_at: datetime
    receipt_number: str


def check_code(chain: Chain, raw: object) -> None:
    """Loppi / Famiポート chains need the 確認番号 8888, which people forget (seed 003)."""
    if chain.check_code is None:
        return  # Seven-Eleven, Seicomart, Daily Yamazaki have none; whatever is sent is ignored
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(
            "確認番号が入力されていません。%(terminal)sではお支払い番号の入力後に、"
            "確認番号「%(check_code)s」を入力してください。",
            params={"terminal": chain.terminal, "check_code": chain.check_code},
            code="check_code_required", field="check_code",
        )
    wrong = "確認番号が正しくありません。確認番号は「%(check_code)s」を入力してください。"
    values = {"check_code": chain.check_code}
    if digits(raw, field="check_code", code="check_code_invalid", message=wrong, params=values) != chain.check_code:
        raise InvalidInput(wrong, params=values, code="check_code_invalid", field="check_code")


def _expired(payment: Payment) -> Gone:
    return Gone(
        "お支払い期限（%(deadline)s）を過ぎたため、"
        "このお支払い番号ではお支払いいただけません。ご注文は自動的にキャンセルされます。",
        params={"deadline": f"{local(payment.deadline):%Y年%-m月%-d日 %H:%M}"},
        code="payment_expired", field="payment_number",
    )


def _cancelled() -> Gone:
    return Gone("このご注文はキャンセルされたため、お支払いいただけません。", code="payment_expired",
                field="payment_number")


def _find(chain: Chain, number: str) -> PaymentCode:
    """The chain's live or paid code with this number; a voided one tells why it is dead.
    Another chain's code is simply not found (API.md: its existence must not leak)."""
    code = (PaymentCode.objects.select_related("payment__order")
            .filter(chain=chain.code, number=number).exclude(status=PaymentCode.Status.VOID).first())
    if code is not None:
        return code
    void = (PaymentCode.objects.select_related("payment__order")
            .filter(chain=chain.code, number=number, status=PaymentCode.Status.VOID)
            .order_by("-created_at", "-id").first())
    if void is not None and void.payment.order.status == OrderStatus.CANCELLED:
        expired = void.payment.order.cancellation_reason == CancellationReason.PAYMENT_EXPIRED
        raise _expired(void.payment) if expired else _cancelled()
    if void is not None:
        raise NotFound("この%(number_name)sは、お支払い先のコンビニが変更されたため無効です。",
                       params={"number_name": chain.number_name},
                       code="payment_not_found", field="payment_number")
    raise NotFound("%(number_name)sが見つかりません。番号をお確かめください。", params={"number_name": chain.number_name},
                   code="payment_not_found", field="payment_number")


_LOCK_SQL = """
SELECT {order_columns}, cu.name, {payment_columns}, c.id, c.status,
       (SELECT st.chain FROM {store} st WHERE st.code = %s) AS store_chain
FROM {code} c JOIN {payment} p ON p.id = c.payment_id JOIN {order} o ON o.id = p.order_id
JOIN {customer} cu ON cu.id = o.customer_id
WHERE c.chain = %s AND c.number = %s AND c.status IN (%s, %s)
{lock}
"""
_ORDER_FIELDS = ["id", "number", "customer_id", "status", "cancellation_reason", "total", "is_digital"]
_PAYMENT_FIELDS = ["id", "order_id", "method", "amount", "status", "deadline"]


@functools.cache
def _lock_sql(lock: bool) -> str:
    return _LOCK_SQL.format(
        order_columns=rawsql.columns("o", Order, _ORDER_FIELDS),
        payment_columns=rawsql.columns("p", Payment, _PAYMENT_FIELDS),
        code=PaymentCode._meta.db_table, payment=Payment._meta.db_table, order=Order._meta.db_table,
        customer=Customer._meta.db_table, store=Store._meta.db_table, lock="FOR UPDATE OF o" if lock else "")


def _lock_order(chain: Chain, number: str, store_code: str) -> Order:
    """Find the order of the chain's live or paid code and lock its row, in one statement.

    The order row is the lock every writer of this payment takes first (issue, expiry, cancel,
    confirm), so once we hold it the order's status is current; the joined payment and code
    columns (``code_id``, ``code_status``) may predate a concurrent writer and are only trusted
    through conditional updates or a re-read. Written out (``backoffice.rawsql``) because the ORM
    spends longer compiling this join than the database spends running it. The same statement
    says which chain's store ``store_code`` is (``store_chain``), for ``_check_store``.
    """
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(connection.features.has_select_for_update_of),
                       [store_code, chain.code, number, PaymentCode.Status.LIVE, PaymentCode.Status.PAID])
        row = cursor.fetchone()
    if row is None:
        _find(chain, number)  # raises the right error for a voided or unknown number
        raise NotFound("%(number_name)sが見つかりません。", params={"number_name": chain.number_name},
                       code="payment_not_found", field="payment_number")
    n, m = len(_ORDER_FIELDS), len(_ORDER_FIELDS) + 1 + len(_PAYMENT_FIELDS)
    order = rawsql.instance(Order, _ORDER_FIELDS, row[:n])
    order.customer = rawsql.instance(Customer, ["id", "name"], [order.customer_id, row[n]])
    order.payment = rawsql.instance(Payment, _PAYMENT_FIELDS, row[n + 1:m])
    order.code_id, order.code_status, order.store_chain = row[m:]
    return order


def _check_store(chain: Chain, store_code: str, store_chain: str | None) -> None:
    """The register's store must be one of the chain's own (issue 12): for a chain that keeps its
    store master here (the pickup chains, ``PUT /stores``) a store of that master; for the others
    at least not another chain's store. 400 ``store_not_found``, nothing written."""
    known = store_chain == chain.code if chain.code in PICKUP_CHAINS else store_chain is None
    if not known:
        raise InvalidInput("店舗コード %(store_code)s は%(chain)sの店舗ではありません。",
                           params={"store_code": store_code, "chain": chain.name}, code="store_not_found",
                           field="store_code")


def _status_of(payment: Payment, order: Order, at: datetime) -> str:
    if payment.status in MONEY_RECEIVED:
        return "paid"
    if order.status == OrderStatus.CANCELLED or payment.status == Payment.Status.VOIDED:
        expired = order.cancellation_reason == CancellationReason.PAYMENT_EXPIRED
        raise _expired(payment) if expired else _cancelled()
    if at > payable_until(payment):
        raise _expired(payment)
    return "pending"


def lookup(*, chain_code: str, payment_number: object, check_code_value: object = None) -> dict:
    """``POST /konbini/payments/lookup``: amount, deadline and status of a payable number."""
    chain = chain_of(chain_code)
    number = parse_number(chain, payment_number)
    check_code(chain, check_code_value)
    code = _find(chain, number)
    payment = code.payment
    status = _status_of(payment, payment.order, now())
    return {"payment_number": code.number, "chain": chain.code, "amount": payment.amount,
            "deadline": local(payment.deadline).isoformat(), "status": status}


def _receipt_body(receipt: PaymentReceipt, number: str) -> dict:
    return {"status": "paid", "payment_number": number, "amount": receipt.amount,
            "receipt_number": receipt.receipt_number, "store_code": receipt.store_code,
            "paid_at": local(receipt.paid_at).isoformat()}


def confirm(*, chain_code: str, payment_number: object, check_code_value: object, cash: CashPayment,
            actor: str, partner=None) -> dict:
    """``POST /konbini/payments/confirm``: record the cash, move the order on, tell the customer.

    All in one transaction with the order row locked. A repeat with the same receipt number
    answers the same; another receipt for a paid number is 409 ``already_paid``.
    """
    chain = chain_of(chain_code)
    number = parse_number(chain, payment_number)
    check_code(chain, check_code_value)
    at = now()
    limits.check_time_window(cash.paid_at, field="paid_at", max_age=limits.PAYMENT_REPORT_MAX_AGE)
    with transaction.atomic():
        order = _lock_order(chain, number, cash.store_code)
        _check_store(chain, cash.store_code, order.store_chain)
        if order.status != OrderStatus.PENDING_PAYMENT or order.code_status != PaymentCode.Status.LIVE:
            return _settled(chain, order, cash, at)  # paid, cancelled or on hold: re-read and answer
        payment = order.payment  # pending (the order awaits payment); amount and deadline never change
        _status_of(payment, order, at)  # 410 past deadline + grace
        if cash.amount != payment.amount:
            raise Conflict("お支払い金額が一致しません。請求額は%(amount)s円です。", params={"amount": f"{payment.amount:,}"},
                           code="amount_mismatch", field="amount")
        receipt = PaymentReceipt(
            payment=payment, code_id=order.code_id, chain=chain.code, receipt_number=cash.receipt_number,
            store_code=cash.store_code, amount=cash.amount, paid_at=cash.paid_at,
            late=at > payment.deadline, partner=partner, recorded_at=at,
        )
        cause = {"cause": "konbini_paid_late" if receipt.late else "konbini_paid", "chain": chain.code,
                 "store_code": cash.store_code, "receipt_number": cash.receipt_number}
        to_status = states.released_status(method=payment.method, digital=order.is_digital, paid=True)
        record(chain, order, receipt, to_status, actor=actor, cause=cause, at=at)
    return _receipt_body(receipt, number)


def record(chain: Chain, order: Order, receipt: PaymentReceipt, to_status: str, *, actor, cause: dict,
           at: datetime) -> None:
    """The writes of cash received for a pending payment (the order locked by the caller): the
    confirmation's, and the final report's for a line that came without its preliminary."""
    write = _record_in_one_statement if connection.vendor == "postgresql" else _record_with_services
    write(chain, order, receipt, to_status, actor=actor, cause=cause, at=at)


def _code_voided(chain: Chain) -> NotFound:
    # A code voided by a chain switch after the lock query's snapshot is not paid.
    return NotFound("この%(number_name)sは無効です。", params={"number_name": chain.number_name},
                    code="payment_not_found", field="payment_number")


def _record_with_services(chain: Chain, order: Order, receipt: PaymentReceipt, to_status: str, *,
                          actor, cause: dict, at: datetime) -> None:
    """The payment's writes through the order services, one statement each (SQLite; the services
    take their own clock). ``_record_in_one_statement`` must write exactly the same rows, which
    tests/payments/test_konbini_confirm.py compares on PostgreSQL."""
    if not PaymentCode.objects.filter(pk=receipt.code_id, status__still=PaymentCode.Status.LIVE).update(
            status=PaymentCode.Status.PAID):
        raise _code_voided(chain)
    receipt.save(force_insert=True)
    orders.mark_paid(order, amount=receipt.amount, actor=actor)
    orders.transition(order, to_status, actor=actor, **cause)
    messages.notify(customer=order.customer, kind=Message.Kind.PAYMENT_RECEIVED, order=order)


_RECORD_SQL = f"""
WITH code AS (
    UPDATE {{code}} SET status = %(paid)s WHERE id = %(code_id)s AND {still("status = %(live)s")} RETURNING id
), payment AS (
    UPDATE {{payment}} SET status = %(paid)s, captured_amount = %(amount)s, paid_at = %(at)s
    WHERE id = %(payment_id)s AND {still("status = %(pending)s")} RETURNING id
), moved AS (
    UPDATE {{order}} SET status = %(to_status)s, updated_at = %(at)s
    WHERE id = %(order_id)s AND {still("status = %(from_status)s")} RETURNING id
), receipt AS (
    INSERT INTO {{receipt}} RETURNING id
), event AS (
    INSERT INTO {{event}}
), message AS (
    INSERT INTO {{message}}
    ON CONFLICT (dedupe_key) DO NOTHING  -- this cause's message exists already: it is sent once
)
SELECT (SELECT id FROM code), (SELECT id FROM payment), (SELECT id FROM moved), (SELECT id FROM receipt),
       {{webhook_subscribed}}
"""


def _record_in_one_statement(chain: Chain, order: Order, receipt: PaymentReceipt, to_status: str, *,
                             actor, cause: dict, at: datetime) -> None:
    """PostgreSQL: the same writes as ``_record_with_services`` — code paid, receipt, payment
    captured, order moved with its timeline event, the payment-received message — in one
    statement (data-modifying CTEs), because each ORM round trip costs the chain's register more
    than the write itself. The three inserted rows are built by the services' own builders
    (``events.build_status_changed``, ``messages.build``) and written column for column by
    ``rawsql.insert_row``; the webhook subscriber check (``webhooks.emit.subscribed_sql``) rides
    along; the UPDATEs keep their conditions, and if one matches nothing the
    error raised here rolls the whole transaction back."""
    if not states.allowed(order.status, to_status, digital=order.is_digital):
        raise Conflict("注文の状態が他の操作で変更されました。", code="invalid_transition")
    event = events.build_status_changed(order=order.pk, from_status=order.status, to_status=to_status, actor=actor,
                                        at=at, **cause)
    message = messages.build(customer=order.customer, kind=Message.Kind.PAYMENT_RECEIVED, order=order, at=at)
    inserts = {name: rawsql.insert_row(row, name) for name, row in (("receipt", receipt), ("event", event),
                                                                    ("message", message))}
    subscribed, subscribed_params = subscribed_sql("order.paid")
    sql = _RECORD_SQL.format(code=PaymentCode._meta.db_table, payment=Payment._meta.db_table,
                             order=Order._meta.db_table, webhook_subscribed=subscribed,
                             **{name: text for name, (text, _) in inserts.items()})
    params = {
        "live": PaymentCode.Status.LIVE, "paid": Payment.Status.PAID, "pending": Payment.Status.PENDING,
        "code_id": receipt.code_id, "payment_id": receipt.payment_id, "order_id": order.pk,
        "amount": receipt.amount, "at": at, "from_status": order.status, "to_status": to_status,
        **{key: value for _, values in inserts.values() for key, value in values.items()}, **subscribed_params,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        code_id, payment_id, order_id, receipt_id, listened = cursor.fetchone()
    if code_id is None:
        raise _code_voided(chain)
    if payment_id is None:
        raise Conflict("この注文は既にお支払い済みです。", code="already_paid")
    if order_id is None:
        raise Conflict("注文の状態が他の操作で変更されました。", code="invalid_transition")
    receipt.pk = receipt_id
    order.status, order.updated_at = to_status, at
    if listened:  # the statement checked for subscribers: emit asks again only when there are some
        emit("order.paid", [order.pk])  # what orders.mark_paid emits on the services' path


def _settled(chain: Chain, order: Order, cash: CashPayment, at: datetime) -> dict:
    """The order no longer awaits this payment: answer from a fresh read (under the lock)."""
    code = PaymentCode.objects.select_related("payment").get(pk=order.code_id)
    payment = code.payment
    if payment.status in MONEY_RECEIVED:
        receipt = PaymentReceipt.objects.filter(payment=payment).exclude(
            status=PaymentReceipt.Status.CANCELLED).first()
        if receipt is not None and receipt.receipt_number == cash.receipt_number and receipt.code_id == code.pk:
            return _receipt_body(receipt, code.number)  # the same receipt again: the same answer
        raise Conflict("このお支払い番号は既にお支払い済みです（別のレシートで入金済み）。二重のお支払いにご注意ください。",
                       code="already_paid", field="receipt_number")
    if code.status == PaymentCode.Status.VOID and order.status != OrderStatus.CANCELLED:
        raise NotFound("この%(number_name)sは無効です。", params={"number_name": chain.number_name},
                       code="payment_not_found", field="payment_number")
    _status_of(payment, order, at)  # 410 when cancelled or past deadline + grace
    raise Conflict("このご注文は現在お支払いを受け付けていません。", code="not_pending_payment")
