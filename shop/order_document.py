"""The API.md order resource, assembled by the database in one query.

``GET /orders/{n}`` is the hottest read of the partner API. Building it through the ORM cost a
query per collection plus expression compilation and model instantiation on every request;
here the database builds the JSON document itself (``json_build_object``/``json_agg`` on
PostgreSQL, ``json_object``/``json_group_array`` on SQLite) from one hand-written statement,
with times already rendered in JST ISO 8601. The statement is fixed text, so PostgreSQL
prepares it once per connection.

The two blocks that belong to other apps — ``payment.konbini`` (payments.konbini) and
``pickup`` (pickup/) — are added by their providers in ``shop.selectors``, and only for the
orders that have them (a konbini payment, a pickup-store destination).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection

from shop import events
from shop.models import OrderEvent


class _Dialect:
    obj: str  # the JSON object constructor

    def agg(self, obj_expr: str, from_where: str, order_by: str) -> str:
        """A JSON array of ``obj_expr`` over the rows of ``from_where``, ordered; [] when none."""
        raise NotImplementedError

    def jst(self, column: str) -> str:
        """A timestamp column as ISO 8601 in JST, exactly as Python's ``isoformat()`` writes it."""
        raise NotImplementedError

    def json_column(self, column: str) -> str:
        """A JSON column embedded as JSON."""
        raise NotImplementedError


class _Postgres(_Dialect):
    obj = "json_build_object"

    def json_column(self, column: str) -> str:
        return column

    def agg(self, obj_expr: str, from_where: str, order_by: str) -> str:
        return f"COALESCE((SELECT json_agg({obj_expr} ORDER BY {order_by}) {from_where}), '[]'::json)"

    def jst(self, column: str) -> str:
        # Python's isoformat(): microseconds only when non-zero.
        return (f"(to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
                f"CASE WHEN (date_part('microseconds', {column})::bigint %% 1000000) = 0 THEN '' "
                f"ELSE to_char({column} AT TIME ZONE 'Asia/Tokyo', '.US') END || '+09:00')")


class _SQLite(_Dialect):
    obj = "json_object"

    def json_column(self, column: str) -> str:
        return f"json({column})"  # stored as text: embed it as JSON, not as a string

    def agg(self, obj_expr: str, from_where: str, order_by: str) -> str:
        return (f"COALESCE((SELECT json_group_array(json(j)) FROM (SELECT {obj_expr} AS j {from_where} "
                f"ORDER BY {order_by})), json('[]'))")

    def jst(self, column: str) -> str:
        # Django stores naive UTC text: 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return (f"(strftime('%%Y-%%m-%%dT%%H:%%M:%%S', {column}, '+9 hours') || "
                f"CASE WHEN length({column}) > 19 AND substr({column}, 21, 6) != '000000' "
                f"THEN '.' || substr({column}, 21, 6) ELSE '' END || '+09:00')")


_DIALECTS: dict[str, _Dialect] = {"postgresql": _Postgres(), "sqlite": _SQLite()}


def _sql(d: _Dialect) -> str:
    o = d.obj
    lines = d.agg(f"{o}('sku', l.sku, 'title', l.title, 'quantity', l.quantity, 'unit_price', l.unit_price)",
                  "FROM shop_orderline l WHERE l.order_id = o.id", "l.id")
    tracking = d.agg(f"{o}('type', e.type, 'occurred_at', {d.jst('e.occurred_at')}, 'location', e.location)",
                     "FROM shop_shipmentevent e WHERE e.shipment_id = s.id", "e.occurred_at, e.id")
    refunds = d.agg(f"{o}('amount', r.amount, 'method', r.method, 'status', r.status, 'reason', r.reason, "
                    f"'created_at', {d.jst('r.created_at')})",
                    "FROM payments_refund r WHERE r.order_id = o.id", "r.created_at DESC, r.id DESC")
    timeline = d.agg(f"{o}('at', {d.jst('v.at')}, 'kind', v.kind, 'from_status', NULLIF(v.from_status, ''), "
                     f"'to_status', NULLIF(v.to_status, ''), 'actor', v.actor, 'note', v.note, "
                     f"'params', {d.json_column('v.params')})",
                     "FROM shop_orderevent v WHERE v.order_id = o.id", "v.at, v.id")
    sellers = d.agg("li.seller_id", "FROM shop_orderline l JOIN shop_listing li ON li.id = l.listing_id "
                                    "WHERE l.order_id = o.id", "l.id")
    # Literal percent signs are doubled: the statement goes through the driver's %s formatting.
    return f"""
SELECT {o}(
    'order_number', o.number,
    'status', o.status,
    'cancellation_reason', NULLIF(o.cancellation_reason, ''),
    'total', o.total,
    'customer_external_id', c.external_id,
    'shipping_speed', o.shipping_speed,
    'destination', CASE WHEN o.destination_type = 'pickup_store'
        THEN {o}('type', 'pickup_store', 'store_code', st.code)
        ELSE {o}('type', 'home', 'postal_code', o.postal_code, 'prefecture', o.prefecture, 'city', o.city,
                 'address_line', o.address_line, 'recipient_name', o.recipient_name, 'phone', o.recipient_phone)
        END,
    'lines', {lines},
    'payment', CASE WHEN p.id IS NULL THEN NULL
        ELSE {o}('method', p.method, 'status', p.status, 'deadline', {d.jst('p.deadline')}, 'konbini', NULL) END,
    'shipment', CASE WHEN s.id IS NULL THEN NULL
        ELSE {o}('carrier', s.carrier, 'tracking_number', s.tracking_number, 'events', {tracking}) END,
    'pickup', NULL,
    'refunds', {refunds},
    'timeline', {timeline},
    'risk_score', o.risk_score
), o.id, o.fulfilling_seller_id, {sellers}
FROM shop_order o
JOIN shop_customer c ON c.id = o.customer_id
LEFT JOIN payments_payment p ON p.order_id = o.id
LEFT JOIN shop_shipment s ON s.order_id = o.id
LEFT JOIN pickup_store st ON st.id = o.pickup_store_id
WHERE o.number = %s
"""


_SQL_CACHE: dict[str, str] = {}


@dataclass(frozen=True)
class OrderDocument:
    """The resource without the other apps' blocks, and what scope checks need."""

    document: dict
    order_id: int
    fulfilling_seller_id: int | None
    line_seller_ids: tuple[int, ...]


def load(number: str) -> OrderDocument | None:
    """The order ``number`` (canonical NNN-NNNNNNN-NNNNNNN form) as a document, or None."""
    vendor = connection.vendor
    sql = _SQL_CACHE.get(vendor)
    if sql is None:
        sql = _SQL_CACHE[vendor] = _sql(_DIALECTS[vendor])
    with connection.cursor() as cursor:
        cursor.execute(sql, [number])
        row = cursor.fetchone()
    if row is None:
        return None
    document, order_id, seller_id, sellers = row
    as_python = [json.loads(v) if isinstance(v, str) else v for v in (document, sellers)]
    for item in as_python[0]["timeline"]:
        item["note"] = timeline_note(item.pop("params") or {}, item)
    return OrderDocument(as_python[0], order_id, seller_id, tuple(as_python[1]))


def timeline_note(params: dict, item: dict) -> str:
    """API.md's timeline ``note``: the event's details in words (``shop.events.describe``, the
    active language), then what a person typed."""
    event = OrderEvent(kind=item["kind"], params=params, to_status=item["to_status"] or "")
    return "\n".join(text for text in (events.describe(event), item["note"]) if text)
