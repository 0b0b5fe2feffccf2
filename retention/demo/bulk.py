"""New rows of the desk's models in bulk, for the demo and benchmark cases and their history:
one COPY on PostgreSQL, ``bulk_create`` elsewhere."""

import operator
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from psycopg.types.json import Jsonb

_KEYS_SQL = "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)"


def _new_keys(cursor: Any, db: Any, meta: Any, count: int) -> list[int]:
    """Keys drawn from the table's identity sequence, as the inserts would have drawn them."""
    cursor.execute(_KEYS_SQL, [db.ops.quote_name(meta.db_table), meta.pk.column, count])
    return [pk for (pk,) in cursor.fetchall()]


def new_keys(model: type[models.Model], count: int) -> list[int]:
    """``count`` keys for new rows of ``model``, drawn now (PostgreSQL: from its sequence;
    elsewhere: after the largest so far, for a single writer such as the demo's)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        top = model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
        return list(range(top + 1, top + 1 + count))
    with db.cursor() as wrapper:
        return _new_keys(wrapper.cursor, db, model._meta, count)


def insert(objs: Sequence[models.Model]) -> None:
    """``bulk_create`` for new rows of one model, primary keys set on the objects.

    On PostgreSQL the same values go in with one COPY: bulk_create spends most of its time
    in Python preparing each value of each row, about a minute for 100,000 cases with their
    history and timeline events.
    """
    if not objs:
        return
    model = type(objs[0])
    # The connection itself, not django.db.connection: its proxy costs a lookup per value.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        model._default_manager.db_manager(db.alias).bulk_create(objs, batch_size=1000)
        return
    meta = model._meta
    fields = meta.concrete_fields
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    with db.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        for obj, pk in zip(objs, _new_keys(cursor, db, meta, len(objs)), strict=True):
            obj.pk = pk
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                # What bulk_create's compiler does with each value: pre_save, then prepare.
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


def insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, keys: bool = False
) -> list[int]:
    """``insert`` for rows given as column values (by attname) rather than model instances,
    every row with the same keys in the same order; the model's defaults fill the other
    columns. Returns the new rows' keys when asked for them.

    For the history's millions of rows: building model instances and preparing each of their
    values the way ``insert`` does costs several times what the COPY itself does.
    """
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._default_manager.db_manager(db.alias).bulk_create(objs, batch_size=1000)
        return [obj.pk for obj in objs] if keys else []
    meta = model._meta
    given = list(rows[0])
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in given]
    missing = [f for f in meta.concrete_fields if f not in fields and not f.primary_key]
    # The other columns' defaults, prepared once for every row.
    defaults = [f.get_db_prep_save(f.get_default(), db) for f in missing]
    json = [n for n, f in enumerate(fields) if isinstance(f, models.JSONField)]
    columns = [str(f.column) for f in ([meta.pk] if keys else []) + fields + missing]
    values = operator.itemgetter(*given)
    with db.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        new = _new_keys(cursor, db, meta, len(rows)) if keys else []
        quote = db.ops.quote_name
        names = ", ".join(map(quote, columns))
        with cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                line = list(values(row)) if len(given) > 1 else [values(row)]
                for index in json:
                    line[index] = Jsonb(line[index])
                copy.write_row(([new[n]] if keys else []) + line + defaults)
    return new
