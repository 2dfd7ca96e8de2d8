"""Indexes for searching part of an order number (issue 17: the console's partial search at 1M
orders). PostgreSQL only, built CONCURRENTLY (the migration is not atomic); SQLite, the embedded
default, scans, which is fine at its size.

A support agent types a part they read off a customer's e-mail: most often the last digits
(the last segment, or more across its hyphen) or the middle segment. Two B-tree expression
indexes serve exactly those, as prefix searches (``text_pattern_ops``):

- ``order_number_reversed``: ``reverse(number)``, the end of the number (「…4567」, 「1234567」,
  「89-1234567」);
- ``order_number_after_first``: ``substring(number, 5)``, from the middle segment on (「9876543」,
  「9876」, 「9876543-12」);

and the number's own index (``varchar_pattern_ops``) serves its start. Each is one B-tree entry
per order row version — what a sweep that UPDATEs thousands of orders a second pays for them — where
a GIN trigram index on the number would add ~19 entries to every new row version (see
``shop.0009``). A run of digits inside a segment that is none of these (「6543-12」 starting mid-
segment) is not searched."""

from django.db import migrations

INDEXES = [
    ("order_number_reversed", "reverse(number) text_pattern_ops"),
    ("order_number_after_first", "substring(number, 5) text_pattern_ops"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON shop_order ({expression})")
    # The planner knows an expression's values only once ANALYZE has sampled them for its index;
    # until then it guesses a match is common and walks ``placed_at`` instead.
    schema_editor.execute("ANALYZE shop_order")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("shop", "0010_settlement_event_kinds")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
