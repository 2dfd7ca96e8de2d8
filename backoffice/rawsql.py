"""Hand-written SELECTs on hot paths, turned back into model instances as the ORM would.

Used where the ORM spends longer compiling a join than the database spends running it (the
konbini terminal's parcel lookup, the chain's payment confirmation). The SQL names its columns
through ``_meta``; the values go through the backend's and the fields' converters (on SQLite a
datetime comes back as text) and ``Model.from_db``, so the instances behave like ORM ones: a
field not selected is deferred and loads on first access instead of reading as a wrong value.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def columns(alias: str, model: type[Model], attnames: Sequence[str]) -> str:
    """``alias.column, …`` for the given fields (attnames, e.g. ``customer_id``)."""
    return ", ".join(f"{alias}.{model._meta.get_field(name).column}" for name in attnames)


def converted(model: type[Model], attnames: Sequence[str], values: Sequence) -> list:
    """The values as the ORM would return them for these fields of ``model``."""
    out = []
    for attname, value in zip(attnames, values, strict=True):
        field = model._meta.get_field(attname)
        col = field.get_col(model._meta.db_table)
        for converter in [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]:
            value = converter(value, col, connection)
        out.append(value)
    return out


def instance(model: type[Model], attnames: Sequence[str], values: Sequence) -> Model:
    """A model instance from selected columns; the other fields are deferred."""
    by_name = dict(zip(attnames, converted(model, attnames, values), strict=True))
    names = [f.attname for f in model._meta.concrete_fields if f.attname in by_name]
    return model.from_db(connection.alias, names, [by_name[name] for name in names])


def insert_row(instance_: Model, name: str) -> tuple[str, dict]:
    """``table (columns) VALUES (%(name_0)s, …)`` and its named parameters, inserting this unsaved
    instance exactly as ``save()`` would (every concrete field but the primary key, each value
    prepared by its field): a hand-written statement built from the rows the services build."""
    meta = instance_._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    params = {f"{name}_{i}": f.get_db_prep_save(f.pre_save(instance_, add=True), connection)
              for i, f in enumerate(fields)}
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(f"%({key})s" for key in params)
    return f"{meta.db_table} ({cols}) VALUES ({values})", params


def copy_rows(model: type[Model], rows: Sequence[Model], *, batch_size: int = 5000) -> None:
    """Insert many unsaved instances as ``bulk_create`` would (every concrete field but the
    primary key, each value prepared by its field), by PostgreSQL's ``COPY`` where available:
    a 100,000-row write in one stream instead of twenty INSERTs of 5,000 parameters' worth.
    The primary keys are not read back (the caller re-reads what it needs)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=batch_size)
        return
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # psycopg adapts the plain values itself; only JSON needs wrapping and auto_now fields their pre_save.
    getters = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            getters.append(lambda row, f=f: f.pre_save(row, add=True))
        elif f.get_internal_type() == "JSONField":
            getters.append(lambda row, name=f.attname: Jsonb(getattr(row, name)))
        else:
            getters.append(lambda row, name=f.attname: getattr(row, name))
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {meta.db_table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([get(row) for get in getters])


def copy_values(model: type[Model], attnames: Sequence[str], rows, *, batch_size: int = 5000) -> None:
    """``copy_rows`` for rows given as value tuples in ``attnames`` order (no model instance per
    row: a hundred thousand of them cost seconds). JSON values are wrapped; the other values must
    be what the field stores (str, int, date, aware datetime, bool, None). Elsewhere than on
    PostgreSQL the instances are built and bulk-created."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create((model(**dict(zip(attnames, row, strict=True))) for row in rows),
                                  batch_size=batch_size)
        return
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = [meta.get_field(name) for name in attnames]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {meta.db_table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)
