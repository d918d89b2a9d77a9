"""Model instances from hand-written SQL, for the queries every API request makes.

Building and compiling an ORM query costs 0.5-1 ms of CPU on a small server, several times
what the database takes to answer an index probe; authentication and the right to submit run
on every request, so they write their SQL by hand and turn its rows into instances here. The
column lists and the value converters are fixed facts of the models and of the database
backend, so they are worked out once per model and connection alias; the rows themselves are
read fresh on every call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]
# (position in the row, its converters, its column): only the columns that need converting
_ConvertersOf = tuple[tuple[int, tuple[Converter, ...], Any], ...]

_converters: dict[tuple[type[Model], str], _ConvertersOf] = {}
_field_converters: dict[tuple[Field[Any, Any], str], tuple[tuple[Converter, ...], Col]] = {}
_columns: dict[tuple[type[Model], str, str], str] = {}
_fetch_one_sql: dict[tuple[type[Model], str, str], str] = {}


def columns(model: type[Model], alias: str, connection: BaseDatabaseWrapper) -> str:
    """`model`'s concrete columns, qualified by `alias`, in the order `instance` reads them."""
    key = (model, alias, connection.vendor)
    found = _columns.get(key)
    if found is None:
        quote = connection.ops.quote_name
        found = _columns[key] = ", ".join(
            f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields
        )
    return found


def width(model: type[Model]) -> int:
    """How many values of a row `columns(model, …)` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any], connection: BaseDatabaseWrapper) -> M:
    """A `model` instance from the values `columns(model, …)` selected, converted as the ORM
    converts them (SQLite's text datetimes, integer booleans and durations, JSON)."""
    converted = list(values)
    for index, functions, column in _converters_of(model, connection):
        value = converted[index]
        for function in functions:
            value = function(value, column, connection)
        converted[index] = value
    return model.from_db(connection.alias, _attnames(model), converted)


@functools.cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def value(field: Field[Any, Any], raw: Any, connection: BaseDatabaseWrapper) -> Any:
    """`raw`, a value of `field`'s column (or of an aggregate over it), as the ORM reads it."""
    key = (field, connection.alias)
    found = _field_converters.get(key)
    if found is None:
        column = field.get_col(field.model._meta.db_table)
        found = _field_converters[key] = (_functions(column, connection), column)
    functions, column = found
    for function in functions:
        raw = function(raw, column, connection)
    return raw


def _converters_of(model: type[Model], connection: BaseDatabaseWrapper) -> _ConvertersOf:
    key = (model, connection.alias)
    found = _converters.get(key)
    if found is None:
        needed = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            functions = _functions(column, connection)
            if functions:
                needed.append((index, functions, column))
        found = _converters[key] = tuple(needed)
    return found


def _functions(column: Col, connection: BaseDatabaseWrapper) -> tuple[Converter, ...]:
    # The backend's converters are methods of the first connection's `ops`; they read only
    # settings, which every connection with this alias shares.
    return tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection))


def per_vendor(build: Callable[[BaseDatabaseWrapper], str]) -> Callable[[BaseDatabaseWrapper], str]:
    """`build(connection)`, an SQL text, built once per database vendor: it is fixed."""
    texts: dict[str, str] = {}

    @functools.wraps(build)
    def text(connection: BaseDatabaseWrapper) -> str:
        found = texts.get(connection.vendor)
        if found is None:
            found = texts[connection.vendor] = build(connection)
        return found

    return text


def any_of(
    column: str, values: Sequence[Any], connection: BaseDatabaseWrapper
) -> tuple[str, list[Any]]:
    """The condition `column` equals one of `values` (database values), and its parameters.

    On PostgreSQL one array parameter: the statement's text is the same however many values
    there are, so psycopg prepares it once instead of once per count (and keeps the parse of
    a few-kilobyte text out of every call). Elsewhere an IN list."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def fetch_one(model: type[M], where: str, params: Sequence[Any]) -> M | None:
    """The `model` row matching `where` (SQL over its own columns as `t`, `%s` placeholders;
    a constant of the caller, never input), or None; read where the ORM would read it."""
    connection = connections[router.db_for_read(model)]
    key = (model, where, connection.vendor)
    sql = _fetch_one_sql.get(key)
    if sql is None:
        sql = _fetch_one_sql[key] = (
            f"SELECT {columns(model, 't', connection)} "
            f"FROM {connection.ops.quote_name(model._meta.db_table)} t WHERE {where}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance(model, row, connection)
