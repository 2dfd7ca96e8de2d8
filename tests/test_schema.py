"""The schema carries no index that another makes redundant: every write maintains every index
of its table (a sweep cancelling a thousand parcels writes events, refunds and no-shows by the
thousand), so a plain b-tree whose columns lead another b-tree on the same table only costs."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

OURS = {"backoffice", "shop", "payments", "konbini", "pickup", "fraud", "receipts", "staff", "webhooks"}


def _redundant() -> list[tuple[str, str, str]]:
    # The auto-created many-to-many tables too: a unique (own, other) pair with an index per column.
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.app_label in OURS}
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH idx AS (
                SELECT c.relname AS tbl, i.relname AS idx, ix.indkey::text AS keys, ix.indisunique AS uniq,
                       ix.indpred IS NOT NULL AS partial, ix.indexprs IS NOT NULL AS expr, am.amname, ix.indclass::text AS ops
                FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
                JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema())
            SELECT a.tbl, a.idx, b.idx FROM idx a JOIN idx b ON a.tbl = b.tbl AND a.idx <> b.idx
            WHERE a.tbl = ANY(%s) AND NOT a.uniq AND NOT a.partial AND NOT b.partial AND NOT a.expr AND NOT b.expr
              AND a.amname = 'btree' AND b.amname = 'btree'
              AND (b.keys LIKE a.keys || ' %%' OR (b.keys = a.keys AND (b.uniq OR a.idx > b.idx)))
              AND split_part(b.ops, ' ', 1) = split_part(a.ops, ' ', 1)
            ORDER BY 1, 2""", [sorted(tables)])
        return cursor.fetchall()


def test_no_index_is_the_prefix_of_another():
    assert _redundant() == []


def test_a_dropped_foreign_key_index_still_serves_its_lookups():
    """The refunds of an order, a customer's no-shows: read through the composite index."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        for sql in ("SELECT id FROM payments_refund WHERE order_id = 1",
                    "SELECT id FROM pickup_pickupnoshow WHERE customer_id = 1",
                    "SELECT id FROM fraud_loginevent WHERE customer_id = 1",
                    "SELECT id FROM webhooks_delivery WHERE event_id = 1",
                    "SELECT order_id FROM fraud_report_orders WHERE report_id = 1",
                    "SELECT to_report_id FROM fraud_report_linked WHERE from_report_id = 1"):
            cursor.execute("EXPLAIN " + sql)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan, (sql, plan)
        cursor.execute("RESET enable_seqscan")


def test_the_known_address_check_is_one_probe_however_many_orders_share_the_address():
    """Risk screening's "has this customer ordered to this address" (``screening._facts``) is
    answered by ``order_address_customer`` alone, not by reading every order at the address."""
    from shop.models import Order
    from tests.factories import CustomerFactory, ListingFactory, place
    from tests.support import copies

    first = place(ListingFactory())
    others = [CustomerFactory(external_id=f"neighbour-{i}") for i in range(3)]
    Order.objects.bulk_create(copies(first, 600, number=lambda i: f"{first.number[:-6]}{i:06d}",
                                     customer_id=lambda i: others[i % 3].pk))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shop_order")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT EXISTS (SELECT 1 FROM shop_order"
                       " WHERE customer_id = %s AND address_key = %s)", [first.customer_id, first.address_key])
        plan = str(cursor.fetchone()[0])
    assert "order_address_customer" in plan and "BitmapAnd" not in plan and "Seq Scan" not in plan, plan
