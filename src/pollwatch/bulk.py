"""The database's fast path for bulk writes: stage rows in a temporary table, then merge.

Rows go into a temporary table in one stream — PostgreSQL COPY, SQLite executemany — and one
INSERT … SELECT adds the rows whose key is new while one UPDATE … FROM rewrites the rows whose
values differ. A million rows thus cost a handful of statements, never a million round trips,
and the counts of created and updated rows come from the database itself.

Call these inside a transaction (`transaction.atomic()`), so that a failure leaves nothing
behind; drop a staging table when done (PostgreSQL drops it at commit in any case). SQLite needs
UPDATE … FROM, i.e. version 3.33 or later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

from pollwatch.core.progress import Counted, OnRows

# Portable column types of a staging table, spelled per database.
_TYPES = {
    "postgresql": {"text": "text", "int": "bigint", "float": "double precision"},
    "sqlite": {"text": "TEXT", "int": "INTEGER", "float": "REAL"},
}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass(frozen=True)
class StagingTable:
    """A temporary table: `columns` maps column name to "text", "int" or "float"."""

    name: str
    columns: Mapping[str, str]

    def create(self, cursor: CursorWrapper) -> None:
        types = _TYPES[connection.vendor]
        columns = ", ".join(f"{_q(column)} {types[kind]}" for column, kind in self.columns.items())
        self.drop(cursor)  # a leftover of the same name would make CREATE fail
        suffix = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
        cursor.execute(f"CREATE TEMPORARY TABLE {_q(self.name)} ({columns}){suffix}")

    def load(
        self,
        cursor: CursorWrapper,
        rows: Iterable[Sequence[Any]],
        on_rows: OnRows | None = None,
    ) -> None:
        """Stream `rows` (tuples in column order) into the table."""
        copy_rows(cursor, self.name, list(self.columns), rows, on_rows)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_q(self.name)}")  # the planner's row estimate is 0 otherwise

    def index(self, cursor: CursorWrapper, column: str) -> None:
        """Index a key column; built after the load, which is faster than maintaining it."""
        index = _q(f"{self.name}_{column}")
        cursor.execute(f"CREATE INDEX {index} ON {_q(self.name)} ({_q(column)})")

    def drop(self, cursor: CursorWrapper) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {self._temporary}")

    @contextmanager
    def loaded(
        self,
        cursor: CursorWrapper,
        rows: Iterable[Sequence[Any]],
        key: str,
        on_rows: OnRows | None = None,
    ) -> Iterator[StagingTable]:
        """Create the table, stream `rows` into it and index `key`; drop it when the block
        ends. Not on an error: the failing transaction is rolled back and takes the table with
        it, and a DROP inside an aborted PostgreSQL transaction would hide the error."""
        self.create(cursor)
        self.load(cursor, rows, on_rows)
        self.index(cursor, key)
        yield self
        self.drop(cursor)

    @property
    def _temporary(self) -> str:
        # Qualified, so that a DROP can never reach an ordinary table of the same name.
        schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
        return f"{schema}.{_q(self.name)}"


def copy_rows(
    cursor: CursorWrapper,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    on_rows: OnRows | None = None,
) -> None:
    """Stream `rows` (tuples in `columns` order) into `table`: COPY, or executemany on SQLite.

    Any table will do, a staging table or, when nothing is there to merge with, the target.
    """
    if on_rows is not None:
        rows = Counted(rows, on_rows)
    names = ", ".join(_q(column) for column in columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {_q(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        # The driver's own cursor takes any iterable of rows: no list of a million tuples.
        cursor.cursor.executemany(f"INSERT INTO {_q(table)} ({names}) VALUES ({marks})", rows)


@dataclass(frozen=True)
class Merge:
    """How staged rows (alias `s`) map onto a target table (alias `t`).

    scope    fixed integer columns that select the target's rows, e.g. {"election_id": 7}
    key      column matched between staging and target, unique within the scope
    values   target column → SQL expression over `s` and the joined tables
    joins    LEFT JOINs resolving foreign keys, e.g. commission codes to ids
    defaults target column → SQL literal, set only on insert
    """

    target: str
    source: StagingTable
    scope: Mapping[str, int]
    key: str
    values: Mapping[str, str]
    joins: str = ""
    defaults: Mapping[str, str] | None = None

    def _scope(self, alias: str) -> str:
        return " AND ".join(
            f"{alias}.{_q(column)} = {int(value)}" for column, value in self.scope.items()
        )

    def insert_missing(self, cursor: CursorWrapper, where: str = "") -> int:
        """Insert the staged rows whose key is not in the target; returns how many."""
        defaults = dict(self.defaults or {})
        columns = [*self.scope, self.key, *self.values, *defaults]
        expressions = [
            *(str(int(value)) for value in self.scope.values()),
            f"s.{_q(self.key)}",
            *self.values.values(),
            *defaults.values(),
        ]
        condition = f" AND ({where})" if where else ""
        cursor.execute(
            f"INSERT INTO {_q(self.target)} ({', '.join(map(_q, columns))}) "
            f"SELECT {', '.join(expressions)} FROM {_q(self.source.name)} AS s {self.joins} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_q(self.target)} AS t "
            f"WHERE {self._scope('t')} AND t.{_q(self.key)} = s.{_q(self.key)}){condition}"
        )
        return cursor.rowcount

    def update_changed(self, cursor: CursorWrapper) -> int:
        """Rewrite the target rows whose values differ from the staged ones; returns how many."""
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        assignments = ", ".join(f"{_q(column)} = {expr}" for column, expr in self.values.items())
        changed = " OR ".join(
            f"t.{_q(column)} {distinct} {expr}" for column, expr in self.values.items()
        )
        cursor.execute(
            f"UPDATE {_q(self.target)} AS t SET {assignments} "
            f"FROM {_q(self.source.name)} AS s {self.joins} "
            f"WHERE {self._scope('t')} AND t.{_q(self.key)} = s.{_q(self.key)} AND ({changed})"
        )
        return cursor.rowcount

    def count_in_scope(self, cursor: CursorWrapper) -> int:
        """How many target rows the scope selects.

        After insert_missing every staged key is in the target, so the rows the staging table
        did not mention number count_in_scope() minus the staged rows: one index count, not
        an anti-join over both tables.
        """
        cursor.execute(f"SELECT COUNT(*) FROM {_q(self.target)} AS t WHERE {self._scope('t')}")
        (count,) = cursor.fetchone()
        return int(count)
