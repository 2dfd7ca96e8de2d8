"""Migration operations of our own, for both backends (PostgreSQL and the embedded SQLite)."""

from __future__ import annotations

from django.db import migrations


class DropForeignKeyIndex(migrations.AlterField):
    """A foreign key set to ``db_index=False`` because a composite index (a unique constraint's,
    say) leads with its column: only its index is dropped. ``AlterField`` would also drop and
    re-add the foreign key's constraint, which validates every row of the table under lock."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            name = schema_editor._create_index_name(model._meta.db_table, [model._meta.get_field(self.name).column],
                                                    suffix="")
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[model._meta.get_field(self.name)]))

    def describe(self) -> str:
        return f"Drop the index of {self.model_name}.{self.name} (a composite index leads with its column)"


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
