"""Placement's hand-written PostgreSQL (issue 16): transaction 2 of a card order in one statement.

``shop.services.orders`` owns the orchestration and calls ``release_paid`` on PostgreSQL; the
same rows are written through the services elsewhere (``orders._release_paid_with_services``),
and ``tests/shop/test_placement_speed.py`` compares the two row for row.
"""

from __future__ import annotations

from django.db import connection

from backoffice import rawsql
from backoffice.keyed import still
from backoffice.timeutil import now
from payments.models import Payment
from shop import events, states
from shop.models import Order, OrderLine, OrderStatus
from shop.services import messages
from webhooks.emit import subscribed_sql

_RELEASE_SQL = f"""
WITH moved AS (
    UPDATE {{order}} SET status = %(to_status)s, updated_at = %(at)s
    WHERE id = %(order_id)s AND {still("status = %(from_status)s")} RETURNING id
), paid AS (
    UPDATE {{payment}} SET status = %(paid)s, captured_amount = %(amount)s, paid_at = %(at)s,
                         gateway_reference = %(reference)s
    WHERE order_id = %(order_id)s AND {still("status = %(pending)s")} AND EXISTS (SELECT FROM moved) RETURNING id
), event AS (
    INSERT INTO {{event}}
), message AS (
    INSERT INTO {{message}}
    ON CONFLICT (dedupe_key) DO NOTHING  -- this cause's message exists already: it is sent once
)
SELECT (SELECT id FROM moved), (SELECT id FROM paid), {{webhook_subscribed}}
"""


def release_paid(order: Order, reference: str, lines: list[OrderLine]) -> tuple[bool, bool]:
    """PostgreSQL, inside transaction 2: what ``orders._release_paid_with_services`` writes —
    the order moved on with its timeline event, the payment captured, the confirmation — in one
    statement (data-modifying CTEs; the konbini confirmation's pattern), because each ORM round
    trip costs a placement more than the write itself. The two inserted rows are built by the
    services' own builders (``events.build_status_changed``, ``messages.build``) and written
    column for column by ``rawsql.insert_row``; the payment is only updated when the order moved
    (the order row is locked first, as ``cancel`` locks it). Both rows are found by their keys
    (``backoffice.keyed.still``: with statistics saying few rows are in that status, the planner
    would otherwise read every order awaiting payment and every payment on each placement).
    Returns (released, listened): released is false when either matched nothing (the caller then
    rolls the transaction back, the inserted rows with it); listened, whether an active endpoint
    subscribes to ``order.paid`` — the check (``webhooks.emit.subscribed_sql``) rides along, so
    nobody listening costs no round trip."""
    at = now()
    target = states.released_status(method=order.payment_method, digital=order.is_digital, paid=True)
    if not states.allowed(order.status, target, digital=order.is_digital):
        return False, False
    event = events.build_status_changed(
        order=order, from_status=order.status, to_status=target, actor="system", at=at,
        cause="digital_delivery" if target == OrderStatus.DELIVERED else "card_captured")
    message = messages.build(customer=order.customer, kind="order_confirmed", order=order, context={"lines": lines},
                             at=at)
    inserts = {name: rawsql.insert_row(row, name) for name, row in (("event", event), ("message", message))}
    subscribed, subscribed_params = subscribed_sql("order.paid")
    sql = _RELEASE_SQL.format(order=Order._meta.db_table, payment=Payment._meta.db_table, webhook_subscribed=subscribed,
                              **{name: text for name, (text, _) in inserts.items()})
    params = {"order_id": order.pk, "from_status": order.status, "to_status": target, "at": at,
              "paid": Payment.Status.PAID, "pending": Payment.Status.PENDING, "amount": order.total,
              "reference": reference, **{key: value for _, values in inserts.values() for key, value in values.items()},
              **subscribed_params}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        moved, paid, listened = cursor.fetchone()
    if moved is None or paid is None:
        return False, False
    order.status, order.updated_at = target, at
    payment = order.payment
    payment.status, payment.captured_amount, payment.paid_at = Payment.Status.PAID, order.total, at
    payment.gateway_reference = reference
    return True, listened is not None
