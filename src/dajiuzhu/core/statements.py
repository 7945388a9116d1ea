"""Many rows of a model in one prepared statement (``executemany``).

``bulk_create`` and ``bulk_update`` build a statement per batch (on SQLite, batches of a few
dozen rows; ``bulk_update`` a CASE WHEN over every row and field), which cost most of a
write's time where thousands of rows go in at once: the first scan of the city (15,000
warnings) and the care intake at 2,000 messages/s. Here the statement is built once from the
model's own table and column names and the rows go with it; values are adapted by the
backend's own adapters (``prepared``) or by the caller, who knows its columns' types.

Rows inserted this way get no ids back, and no signals run: use it only where nothing needs
either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


def _connection(model: type[Model]):
    return connections[router.db_for_write(model)]


def _fields(model: type[Model], names: Sequence[str]) -> list[Field]:
    """The model's concrete fields of these names (a name that is none is a KeyError)."""
    concrete = {f.name: f for f in model._meta.concrete_fields}
    return [concrete[name] for name in names]


def prepared(objects: Iterable[Model], names: Sequence[str]) -> list[list[Any]]:
    """These fields' values of these objects, adapted for the database (``get_db_prep_save``)."""
    objects = list(objects)
    if not objects:
        return []
    model = type(objects[0])
    conn = _connection(model)
    fields = _fields(model, names)
    return [[f.get_db_prep_save(getattr(o, f.attname), conn) for f in fields] for o in objects]


def insert_many(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT these rows (values of the fields ``names``, in that order, already adapted).
    With ``ignore_conflicts`` a row a unique constraint refuses is skipped (ON CONFLICT DO
    NOTHING); without, the statement raises ``IntegrityError``."""
    if not rows:
        return
    conn = _connection(model)
    quote = conn.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _fields(model, names))
    marks = ", ".join(["%s"] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"  # noqa: S608 (names from the model)
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)


def insert_objects(objects: Sequence[Model]) -> None:
    """INSERT these unsaved objects of one model, every concrete field but the primary key."""
    if not objects:
        return
    model = type(objects[0])
    names = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    insert_many(model, names, prepared(objects, names))


def update_objects(objects: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE these fields of these saved objects of one model, each row by its primary key."""
    if not objects or not names:
        return
    model = type(objects[0])
    conn = _connection(model)
    quote = conn.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in _fields(model, names))
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608 (names from the model)
    rows = [[*values, o.pk] for values, o in zip(prepared(objects, names), objects, strict=True)]
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)
