"""Trigram indexes for the console's partial searches (issue 17): a customer's name and the start
of an e-mail address. PostgreSQL only (``pg_trgm`` serves LIKE '%…%'); SQLite, the embedded
default, scans, which is fine at its size.

Deliberately none on ``shop_order``: every status change of an order rewrites all its index
entries (``order_status_placed`` leads with the status, so no update is HOT), and the sweeps
change thousands at a time; a GIN trigram index on the number would add ~17 entries to each.
Part of an order number is searched on B-tree expression indexes instead (``shop.0011``: one
entry per row version each, for the end of the number and its middle segment)."""

from django.db import migrations

INDEXES = [
    ("customer_name_trgm", "shop_customer", "name"),
    ("customer_email_trgm", "shop_customer", "email"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ("{column}" gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("shop", "0008_callback_claim_and_outcome")]

    operations = [migrations.RunPython(create, drop)]
