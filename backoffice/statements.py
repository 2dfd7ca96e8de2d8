"""Querysets compiled once per connection and run again with new values (issue 16).

Every ``filter(...)`` builds a query, and every evaluation compiles it to SQL again: on the hot
paths (the partner key checked on every API request, the listings a placement reads) that costs a
millisecond of Python each time, five times what the database spends running the statement. A
``Select`` is such a queryset written once, as a function of its values::

    by_digest = Select(lambda digest: Partner.objects.select_related("seller").filter(key_digest=digest)[:1])
    partner = by_digest.first(digest)

The first call on a connection builds the queryset with marker values and compiles it; the SQL, the
positions of the markers among its parameters, the converters and the way rows become instances
(``select_related`` included) are kept, and every later call only executes the SQL with the real
values and builds the instances as the ORM would (``Model.from_db``, the related populators,
the backend's converters). The ORM definition stays the one description of the query.

Values are strings or integers (a list of them for ``__in``: one compiled statement per length).
Anything else a query needs is written into the queryset as a constant.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, transaction
from django.db.models import Model, QuerySet, sql
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

# What stands for a value while a statement compiles: unlikely as a constant of a query, and an
# integer inside the range of an integer column (the ORM folds comparisons outside it).
_STR_MARK = "\x00kb-statement-{}-{}\x00"
_INT_MARKS = (1_900_000_013, 1_800_000_029)
_ids = itertools.count()


def _slots(params: Sequence, marks: list) -> list[int | None]:
    """For each parameter of the compiled SQL: the index of the caller's value it stands for, or
    None for a constant of the query."""
    positions = {mark: i for i, mark in enumerate(marks)}
    slots = [positions.get(p) if isinstance(p, str | int) and not isinstance(p, bool) else None for p in params]
    if {slot for slot in slots if slot is not None} != set(range(len(marks))):
        raise TypeError("every value of a statement must reach its SQL as a parameter (a str or an int)")
    return slots


class _Compiled:
    """One statement's SQL on one connection and where each call's values go in its parameters."""

    def __init__(self, sql: str, params: Sequence, marks: list) -> None:
        self.sql, self.constants, self.slots = sql, list(params), _slots(params, marks)

    def params(self, values: list) -> list:
        return [self.constants[i] if slot is None else values[slot] for i, slot in enumerate(self.slots)]


class _CompiledSelect(_Compiled):
    """A SELECT of model rows, with the ORM's recipe for turning a row into instances."""

    def __init__(self, queryset: QuerySet, marks: list) -> None:
        compiler = queryset.query.get_compiler(connection=connection)
        super().__init__(*compiler.as_sql(), marks)
        self.locks = queryset.query.select_for_update and connection.features.has_select_for_update  # as the ORM
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.span = (start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.populators = get_related_populators(klass_info, select, connection.alias)
        self.compiler = compiler
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])

    def run(self, values: list) -> list[Model]:
        if self.locks and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params(values))
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        start, end = self.span
        out = []
        for row in rows:
            obj = self.model.from_db(connection.alias, self.init_list, row[start:end])
            for populator in self.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out


class _CompiledUpdate(_Compiled):
    """An UPDATE of the rows a queryset matches, as ``QuerySet.update`` compiles it."""

    def __init__(self, built: tuple[QuerySet, dict], marks: list) -> None:
        queryset, changes = built
        if queryset.query.order_by or queryset.query.is_sliced:
            raise TypeError("Update: a plain filter, neither ordered nor sliced")
        query = queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(changes)
        query.clear_select_clause()
        super().__init__(*query.get_compiler(connection=connection).as_sql(), marks)

    def run(self, values: list) -> int:
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            cursor.execute(self.sql, self.params(values))
            return cursor.rowcount


class _Statement:
    compiled_as: type

    def __init__(self, build: Callable) -> None:
        self.build = build
        self.key = f"_kb_statement_{next(_ids)}"

    def _run(self, values: tuple):
        shape = tuple(len(v) if isinstance(v, list | tuple) else None for v in values)
        cache = connection.__dict__.setdefault(self.key, {})  # one per connection (thread), and per backend
        compiled = cache.get(shape)
        if compiled is None:
            compiled = cache[shape] = self._compile(values)
        flat: list = []
        for value in values:
            flat.extend(value) if isinstance(value, list | tuple) else flat.append(value)
        for value in flat:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise TypeError(f"a statement takes str or int values, not {type(value).__name__}")
        return compiled.run(flat)

    def _compile(self, values: Sequence) -> _Compiled:
        """Compiled with marks in place of the values, twice with different marks: a statement whose
        SQL depends on a value (the ORM folds an integer comparison outside the column's range,
        for one) is refused rather than run with that value baked in."""
        try:
            compiled = [self._compile_with(values, base) for base in _INT_MARKS]
        except (EmptyResultSet, FullResultSet) as exc:  # a mark outside an integer column's range
            raise TypeError("a statement's SQL must not depend on its values") from exc
        if compiled[0].sql != compiled[1].sql or compiled[0].slots != compiled[1].slots:
            raise TypeError("a statement's SQL must not depend on its values")
        return compiled[0]

    def _compile_with(self, values: Sequence, int_base: int) -> _Compiled:
        marks: list = []

        def mark(value):
            marks.append(_STR_MARK.format(int_base, len(marks)) if isinstance(value, str) else int_base + len(marks))
            return marks[-1]

        args = [[mark(v) for v in value] if isinstance(value, list | tuple) else mark(value) for value in values]
        return self.compiled_as(self.build(*args), marks)


class Select(_Statement, Generic[M]):
    """A model queryset as a function of its values: ``all(*values)``, ``first(*values)``."""

    compiled_as = _CompiledSelect

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        super().__init__(build)

    def all(self, *values: Any) -> list[M]:
        return self._run(values)

    def first(self, *values: Any) -> M | None:
        found = self._run(values)
        return found[0] if found else None


class Update(_Statement):
    """``queryset.update(**changes)`` as a function of its values, built as ``(queryset, changes)``:
    ``run(*values)`` returns how many rows it changed."""

    compiled_as = _CompiledUpdate

    def __init__(self, build: Callable[..., tuple[QuerySet, dict]]) -> None:
        super().__init__(build)

    def run(self, *values: Any) -> int:
        return self._run(values)
