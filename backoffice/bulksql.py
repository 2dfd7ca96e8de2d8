"""Set-based statements for batches: one parameter per column, however many rows.

A batch of a thousand rows through ``bulk_create`` or ``filter(pk__in=ids)`` costs more in the
client than in the server: the ORM prepares every value of every row, the statement carries one
placeholder per value (thousands), and psycopg parses such a statement afresh each time (it caches
short ones only). On PostgreSQL the same statements take each column as one array —
``INSERT … SELECT … FROM unnest(%s::bigint[], …)`` and ``id = ANY(%s)`` — so the text is the same
for every batch. With server-side binding (the default, ``DB_SERVER_SIDE_BINDING``) the arrays travel in
binary (``%b``): psycopg's text form of an array escapes every string through a regular
expression, ten times the cost of the binary form for a batch of message bodies. Other backends (SQLite, the embedded default)
get the ORM's own statements: the rows written are identical, which the tests check on both.

- ``insert(model, columns)`` inserts rows given column-wise (a list per varying column, a single
  value for a column every row shares — ``same(value)`` when that value is itself a list, e.g. a
  JSON field's; an omitted field takes its default);
- ``field__anyof=ids`` (a lookup on every field) is ``IN`` written as ``= ANY(array)`` on PostgreSQL.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignObject, JSONField, Lookup, Model, signals
from django.db.models.base import ModelState
from django.db.models.lookups import In
from django.utils import timezone

_NOT_GIVEN = object()


class same:  # noqa: N801 - reads as a marker in a call: insert(M, {"args": same([])})
    """A value every row shares, even if it is a list."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@Field.register_lookup
class AnyOf(Lookup):
    """``field__anyof=[...]``: ``field IN (...)``; on PostgreSQL ``field = ANY(%s)``, one array
    parameter (the statement's text does not depend on how many values there are)."""

    lookup_name = "anyof"
    prepare_rhs = False

    def get_prep_lookup(self):
        values = list(self.rhs)
        if all(type(v) is int for v in values):  # ids, as a batch gives them: nothing to prepare
            return values
        return [self.lhs.output_field.get_prep_value(v) for v in values]

    def as_sql(self, compiler, connection):
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            return "FALSE", []
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.cast_db_type(connection)
        values = list(self.rhs)
        if all(type(v) is int for v in values):
            # Ids as the array's literal, written by one join: psycopg's list dumper would adapt
            # each element in Python (and a named cursor cannot take a binary parameter).
            values = "{" + ",".join(map(str, values)) + "}"
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, values]


ForeignObject.register_lookup(AnyOf)  # a foreign key keeps its own lookups: ``order_id__anyof``


def _columns(model: type[Model], columns: Mapping[str, Any]) -> tuple[int, list[tuple[Field, Any]]]:
    """The fields to write with their value (a list, or one shared value) and the row count."""
    meta = model._meta
    given = {meta.get_field(name).attname: value for name, value in columns.items()}
    sizes = {len(v) for v in given.values() if isinstance(v, list)}
    if len(sizes) != 1:
        raise ValueError(f"insert({model.__name__}): the list columns must have one common length, got {sizes}")
    out = []
    for field in meta.concrete_fields:
        if field.primary_key and field.attname not in given:
            continue
        value = given.pop(field.attname, _NOT_GIVEN)
        if isinstance(value, same):
            value = _Shared(value.value)
        elif value is _NOT_GIVEN and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)):
            value = _Shared(timezone.now())
        elif value is _NOT_GIVEN:
            if not field.has_default() and not field.null and not field.blank:
                raise ValueError(f"insert({model.__name__}): no value for {field.attname}")
            value = _Shared(field.get_default())
        elif not isinstance(value, list):
            value = _Shared(value)
        out.append((field, value))
    if given:
        raise ValueError(f"insert({model.__name__}): unknown columns {sorted(given)}")
    return sizes.pop(), out


class _Shared:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _array_param() -> str:
    """The placeholder for an array parameter: binary where the cursor binds on the server (the
    text form quotes and escapes each element in Python), text behind a client-side binding.
    Django's own flag says which (``DB_SERVER_SIDE_BINDING`` on psycopg 3)."""
    return "%b" if connection.features.uses_server_side_binding else "%s"


def insert(model: type[Model], columns: Mapping[str, Any], *, returning: bool = False,
           ignore_conflicts: bool = False) -> list[int] | int:
    """Insert ``n`` rows given by column; returns their primary keys (``returning``, in row order)
    or how many were inserted (``ignore_conflicts`` skips the rows a unique constraint refuses)."""
    n, fields = _columns(model, columns)
    if not n:
        return [] if returning else 0
    if connection.vendor != "postgresql":
        return _insert_with_orm(model, n, fields, returning=returning, ignore_conflicts=ignore_conflicts)
    quote = connection.ops.quote_name
    names, selects, params = [], [], []
    arrays: list[tuple[str, list]] = []
    for field, value in fields:
        names.append(quote(field.column))
        db_type = field.cast_db_type(connection)
        if isinstance(field, JSONField):
            encoder = field.encoder
            if isinstance(value, list):
                arrays.append(("text", [json.dumps(v, cls=encoder, ensure_ascii=False) for v in value]))
                selects.append(f"u.c{len(arrays) - 1}::jsonb")
            else:
                selects.append("%s::jsonb")
                params.append(json.dumps(value.value, cls=encoder, ensure_ascii=False))
        elif isinstance(value, list):
            arrays.append((db_type, [field.get_db_prep_save(v, connection) for v in value]
                           if _needs_prep(field) else value))
            selects.append(f"u.c{len(arrays) - 1}")
        else:
            selects.append(f"%s::{db_type}")
            params.append(field.get_db_prep_save(value.value, connection))
    array = _array_param()
    unnest = ", ".join(f"{array}::{db_type}[]" for db_type, _ in arrays)
    aliases = ", ".join(f"c{i}" for i in range(len(arrays)))
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "
           f"SELECT {', '.join(selects)} FROM unnest({unnest}) WITH ORDINALITY AS u({aliases}, ord) ORDER BY u.ord")
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    # The SELECT list's shared values come before the arrays in the text.
    all_params = [*params, *(values for _, values in arrays)]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return [row[0] for row in cursor.fetchall()] if returning else cursor.rowcount


def insert_tuples(model: type[Model], attnames: Sequence[str], rows: Sequence[Sequence], *,
                  chunk: int = 10_000) -> int:
    """``insert`` for rows given as value tuples in ``attnames`` order (a report's lines), in
    statements of ``chunk`` rows; returns how many were inserted."""
    done = 0
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        done += insert(model, {name: [row[i] for row in part] for i, name in enumerate(attnames)})
    return done


def add(model: type[Model], field_name: str, amounts: Mapping[int, int]) -> int:
    """``field += amount`` for each row (by primary key) in one UPDATE; returns the rows updated.
    On PostgreSQL ``UPDATE … FROM unnest(ids, amounts)``; elsewhere ``CASE pk WHEN … THEN …``."""
    if not amounts:
        return 0
    field = model._meta.get_field(field_name)
    pk = model._meta.pk
    if connection.vendor != "postgresql":
        from django.db.models import Case, F, Value, When

        return model.objects.filter(pk__in=list(amounts)).update(**{field_name: F(field_name) + Case(
            *(When(pk=key, then=Value(amount)) for key, amount in amounts.items()), default=Value(0))})
    quote = connection.ops.quote_name
    table, column, array = quote(model._meta.db_table), quote(field.column), _array_param()
    sql = (f"UPDATE {table} SET {column} = {table}.{column} + u.amount "
           f"FROM unnest({array}::{pk.cast_db_type(connection)}[], {array}::{field.cast_db_type(connection)}[]) "
           f"AS u(key, amount) "
           f"WHERE {table}.{quote(pk.column)} = u.key")
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(amounts), list(amounts.values())])
        return cursor.rowcount


def instances(model: type[Model], pks: list[int], columns: Mapping[str, Any]) -> Sequence[Model]:
    """The rows ``insert(..., returning=True)`` wrote, as model instances (no read): the primary
    keys, the given columns and the defaults ``insert`` wrote for the others. Each instance is
    built when first reached (a batch's caller usually looks at one or none)."""
    return _Written(model, pks, _columns(model, columns)[1])


class _Written(Sequence):
    """``instances``' answer: what ``from_db`` would build for each row, made on first access
    and kept. Without init signals on the model, without running ``__init__`` over every field:
    a loaded instance (not ``adding``) whose attributes are set in its ``__dict__``, as
    ``__init__`` sets them."""

    def __init__(self, model: type[Model], pks: list[int], fields: list[tuple[Field, Any]]) -> None:
        self.model, self.pks, self.alias = model, pks, connection.alias
        self.names = [model._meta.pk.attname, *(field.attname for field, _ in fields)]
        self.shared = {field.attname: value.value for field, value in fields if isinstance(value, _Shared)}
        self.varying = [(field.attname, value) for field, value in fields if not isinstance(value, _Shared)]
        self.mutable = [attname for attname, value in self.shared.items() if isinstance(value, (dict, list))]
        self.signals = signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
        self.made: list[Model | None] = [None] * len(pks)

    def __len__(self) -> int:
        return len(self.pks)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        obj = self.made[index]
        if obj is None:
            obj = self.made[index] = self._build(index if index >= 0 else len(self) + index)
        return obj

    def _build(self, i: int) -> Model:
        pk = self.pks[i]
        values = {**self.shared, **{attname: value[i] for attname, value in self.varying}}
        for attname in self.mutable:  # a shared default such as ``params={}``: each instance its own
            values[attname] = copy.deepcopy(values[attname])
        if self.signals:
            return self.model.from_db(self.alias, self.names, [pk, *(values[name] for name in self.names[1:])])
        obj = self.model.__new__(self.model)
        state = obj._state = ModelState()
        state.adding, state.db = False, self.alias
        attrs = obj.__dict__
        attrs.update(values)
        attrs[self.names[0]] = pk
        return obj

    def __eq__(self, other) -> bool:
        # As a list compares: item by item with another sequence (the rows read back, say).
        if isinstance(other, (_Written, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # a list is not hashable either

    def __reduce__(self):
        return list, (list(self),)  # pickled (a cache's, a task's copy) as the list it stands for

    def __repr__(self) -> str:
        return f"<{self.model.__name__} × {len(self)} written>"


def _needs_prep(field: Field) -> bool:
    """Integers, text and booleans go into an array as they are; dates, decimals and the rest
    through the field (an aware datetime is fine as it is too)."""
    return field.get_internal_type() not in {
        "AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
        "PositiveSmallIntegerField", "PositiveBigIntegerField", "SmallIntegerField", "CharField", "TextField",
        "BooleanField", "ForeignKey", "DateTimeField", "EmailField", "SlugField"}


def _insert_with_orm(model: type[Model], n: int, fields: Sequence[tuple[Field, Any]], *, returning: bool,
                     ignore_conflicts: bool) -> list[int] | int:
    rows = [model(**{field.attname: (value.value if isinstance(value, _Shared) else value[i])
                     for field, value in fields}) for i in range(n)]
    created = model.objects.bulk_create(rows, ignore_conflicts=ignore_conflicts)
    # (With ``ignore_conflicts`` the ORM cannot tell which rows a conflict skipped: the count given.)
    return [row.pk for row in created] if returning else len(created)
