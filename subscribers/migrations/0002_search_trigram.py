"""Trigram indexes for "contains" search at a million subscribers.

PostgreSQL only: on SQLite the statements are skipped and search falls back to a scan,
which is fine at development sizes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ("name", "email", "phone", "account_number")


class PostgresOnlySQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0001_initial")]
    operations = [
        TrigramExtension(),
        *(
            PostgresOnlySQL(
                sql=f"CREATE INDEX subscriber_{column}_trgm ON subscribers_subscriber "
                f"USING gin (upper({column}) gin_trgm_ops)",
                reverse_sql=f"DROP INDEX subscriber_{column}_trgm",
            )
            for column in COLUMNS
        ),
    ]
