"""What the benchmark keeps in the database between runs (a note in a table's comment: what was
loaded or seeded there, with which options), and the VACUUM it runs after writing in bulk."""

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection


def table_note(table: str, mark: str) -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [table])
        row = cursor.fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith(mark):
        return None
    recorded: dict[str, Any] = json.loads(comment.removeprefix(mark))
    return recorded


def set_table_note(table: str, mark: str, info: dict[str, Any]) -> None:
    text = mark + json.dumps(info)
    with connection.cursor() as cursor:
        # COMMENT takes no parameters; the text is our own JSON, quoted by the server.
        cursor.execute("SELECT quote_literal(%s)", [text])
        (literal,) = cursor.fetchone() or ("''",)
        cursor.execute(f"COMMENT ON TABLE {connection.ops.quote_name(table)} IS {literal}")


def vacuum(models: Iterable[type[Any]]) -> None:
    """VACUUM ANALYZE the models' tables (it cannot run in a transaction)."""
    vacuum_tables(m._meta.db_table for m in models)


def vacuum_tables(tables: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")


def analyze(model: type[Any]) -> None:
    """The planner learns the table's new size, as autovacuum would tell it soon after."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
