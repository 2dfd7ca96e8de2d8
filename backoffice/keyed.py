"""Conditional updates of one row found by its key: ``filter(pk=..., status__still=...)``.

A state change is a conditional update — ``UPDATE … WHERE id = %s AND status = %s`` — so that two
writers cannot both move the same row. PostgreSQL plans it by its statistics, and when they say
few rows are in that status (a card shop between two ANALYZEs: orders await payment for a second
each) an index that starts with the status looks cheaper than the primary key: the update then
reads every row in that status, and the index entries the previous moves left dead, each time.

``field__still=value`` is the same test as ``field=value`` written ``(field = value) IS TRUE``,
which no index can serve: the key finds the row, the status is checked on that row. It is for
rows found by a key; a set-based statement that selects rows *by* their status keeps ``exact``.
Hand-written statements (placement's transaction 2, the konbini confirmation) write the same
condition with ``still("status = %(from_status)s")``.
"""

from __future__ import annotations

from django.db.models import Field
from django.db.models.lookups import Exact


def still(condition: str) -> str:
    """A comparison in the form no index can serve: the row is found by its key, then checked."""
    return f"({condition}) IS TRUE"


@Field.register_lookup
class Still(Exact):
    lookup_name = "still"

    def get_rhs_op(self, connection, rhs):
        return connection.operators["exact"] % rhs

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return still(sql), params
