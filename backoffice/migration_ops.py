"""Migration operations of our own, for both backends (PostgreSQL and the embedded SQLite)."""

from __future__ import annotations

from django.db import migrations


def _drop_field_index(schema_editor, model, field) -> None:
    """Drop the index Django made for one column (its name is derived from table and column)."""
    name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="")
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def _create_field_index(schema_editor, model, field) -> None:
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class DropForeignKeyIndex(migrations.AlterField):
    """A foreign key set to ``db_index=False`` because a composite index (a unique constraint's,
    say) leads with its column: only its index is dropped. ``AlterField`` would also drop and
    re-add the foreign key's constraint, which validates every row of the table under lock."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _drop_field_index(schema_editor, model, model._meta.get_field(self.name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            _create_field_index(schema_editor, model, model._meta.get_field(self.name))

    def describe(self) -> str:
        return f"Drop the index of {self.model_name}.{self.name} (a composite index leads with its column)"


class DropManyToManySourceIndex(migrations.operations.base.Operation):
    """The index of an auto-created many-to-many table's own column (``report_id`` of
    ``fraud_report_orders``): the table's unique (own, other) index leads with it. An
    auto-created table's foreign keys cannot be declared without an index, so only the database
    changes; the state stays as it is (Django finds a relation's indexes by introspection when it
    alters one, never by this name)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name, self.name = model_name, name

    def deconstruct(self):
        return self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label, state) -> None:
        pass

    def _through(self, apps, app_label):
        relation = apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        through = relation.remote_field.through
        return through, through._meta.get_field(relation.m2m_field_name())

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        through, field = self._through(from_state.apps, app_label)
        if self.allow_migrate_model(schema_editor.connection.alias, through):
            _drop_field_index(schema_editor, through, field)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        through, field = self._through(to_state.apps, app_label)
        if self.allow_migrate_model(schema_editor.connection.alias, through):
            _create_field_index(schema_editor, through, field)

    def describe(self) -> str:
        return f"Drop the index of {self.model_name}.{self.name}'s own column (its unique pair leads with it)"


class AddIndexConcurrently(migrations.AddIndex):
    """``AddIndex`` built with ``CREATE INDEX CONCURRENTLY`` on PostgreSQL (a large table stays
    writable while it builds; the migration must be ``atomic = False``), plainly elsewhere.
    Django's own ``AddIndexConcurrently`` refuses any backend but PostgreSQL."""

    atomic = False

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.remove_index(model, self.index, concurrently=True)
            else:
                schema_editor.remove_index(model, self.index)
