"""Migration operations that run on both backends (PostgreSQL and the embedded SQLite)."""

from __future__ import annotations

from django.db import migrations


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
