"""SQLite through the standard library's sqlite3.

SQLite has no date, decimal, UUID or JSON types: gee stores them as TEXT in forms that read back
exactly (``2024-01-02 03:04:05.000006``, ``Decimal`` as its string, the UUID's canonical form,
compact JSON). Fixed-width timestamps keep ``ORDER BY`` and comparisons right; decimals compare
as text, so order by them in Python or store cents as ``int`` when order matters.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gee.orm.clause import Column, Context
from gee.orm.dialects.base import Connection, Dialect, Reader, Writer, _enum_writer, json_dumps
from gee.orm.errors import ProgrammingError, translate

if TYPE_CHECKING:
    from gee.orm.engine import URL
    from gee.orm.schema import Table

__all__ = ["SQLiteDialect"]

_VARCHAR = re.compile(r"VARCHAR\((\d+)\)", re.IGNORECASE)


def _write_datetime(value: dt.datetime) -> str:
    return value.isoformat(" ", "microseconds")


class SQLiteDialect(Dialect):
    name = "sqlite"
    placeholder = "?"
    quote_char = '"'
    returning = False  # cursor.lastrowid is cheaper than RETURNING for one row
    error = sqlite3.Error
    types = {
        "int": "INTEGER",
        "float": "REAL",
        "str": "TEXT",
        "bytes": "BLOB",
        "bool": "INTEGER",
        "datetime": "TEXT",
        "date": "TEXT",
        "decimal": "TEXT",
        "uuid": "TEXT",
        "json": "TEXT",
    }
    writers: dict[str, Writer] = {
        "enum": _enum_writer,
        "datetime": _write_datetime,
        "date": dt.date.isoformat,
        "decimal": str,
        "uuid": str,
        "json": json_dumps,
    }
    readers: dict[str, Reader] = {
        "bool": bool,
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "decimal": Decimal,
        "uuid": uuid.UUID,
        "json": json.loads,
    }

    def auto_column(self, column: Column[Any]) -> str:
        # INTEGER PRIMARY KEY is the rowid itself: generated, and the fastest key SQLite has.
        return f"{self.quote(column.column)} INTEGER PRIMARY KEY"

    def limit_offset(self, ctx: Context, limit: int | None, offset: int | None) -> None:
        if limit is None:
            limit = -1  # SQLite's OFFSET needs a LIMIT; -1 is "no limit"
        ctx.sql(" LIMIT ").param(limit)
        if offset is not None:
            ctx.sql(" OFFSET ").param(offset)

    def has_table(self, name: str) -> tuple[str, tuple[object, ...]]:
        return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)

    def table_columns(self, conn: Connection, name: str) -> list[str]:
        rows = conn.execute(f"PRAGMA table_info({self.quote(name)})").fetchall()
        return [row[1] for row in rows]

    def column_lengths(self, conn: Connection, name: str) -> dict[str, int]:
        rows = conn.execute(f"PRAGMA table_info({self.quote(name)})").fetchall()
        lengths = {}
        for row in rows:
            match = _VARCHAR.fullmatch(row[2])
            if match:
                lengths[row[1]] = int(match.group(1))
        return lengths

    def connect(self, url: URL) -> Connection:
        path = url.database or ":memory:"
        # isolation_level=None: autocommit; gee sends BEGIN/COMMIT/SAVEPOINT itself.
        # check_same_thread=False: the pool may hand a connection to another thread, never
        # to two at once.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    # sqlite3 cursors are reusable: a session keeps one (``cursor``) instead of having
    # conn.execute() make and drop one per statement (measured: ~8% of a get by key). The calls
    # below take that cursor or a connection (both have execute(), returning a cursor).

    def cursor(self, conn: Connection) -> Connection:
        return conn.cursor()

    def fetchall(self, conn: Connection, sql: str, params: Sequence[object]) -> list[Any]:
        return conn.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    # sqlite3's fetchall() of a statement without rows is [] already.
    select = fetchall

    def execute(
        self, conn: Connection, sql: str, params: Sequence[object]
    ) -> tuple[int, int | None]:
        cur = conn.execute(sql, params)
        return cur.rowcount, cur.lastrowid

    def executemany(self, conn: Connection, sql: str, rows: Iterable[Sequence[object]]) -> int:
        return conn.executemany(sql, rows).rowcount  # type: ignore[no-any-return]

    def translate(self, exc: BaseException, sql: str, params: Sequence[object]) -> Exception:
        # sqlite3 raises OperationalError for SQL the database rejects (no such table, syntax);
        # those are programming errors everywhere else, so they are here too.
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and (
            text.startswith(("no such", "near "))
            or "syntax error" in text
            or "has no column" in text
            or "already exists" in text
        ):
            return ProgrammingError(f"{type(exc).__name__}: {exc}", sql, params)
        return translate(exc, sql, params)

    def rebuild_table(
        self, table: Table, keep: Sequence[str], fill: dict[str, str] | None = None
    ) -> list[str]:
        """Statements that rebuild ``table`` to its model, copying the columns in ``keep``.

        ``fill`` maps each new column that needs a value in the copied rows to its SQL literal.

        SQLite's ALTER TABLE cannot drop a column that is indexed, unique or part of a key, so
        gee builds the new table beside the old, copies the rows, and swaps them; the caller runs
        these in one transaction.
        """
        q = self.quote
        temp = f"_gee_new_{table.name}"
        statements = self.create_table(table, temp)
        create, indexes = statements[0], statements[1:]
        fill = fill or {}
        cols = ", ".join(q(c) for c in [*keep, *fill])
        values = ", ".join([q(c) for c in keep] + list(fill.values()))
        return [
            create,
            f"INSERT INTO {q(temp)} ({cols}) SELECT {values} FROM {q(table.name)}",
            f"DROP TABLE {q(table.name)}",
            f"ALTER TABLE {q(temp)} RENAME TO {q(table.name)}",
            *[s.replace(f" ON {q(temp)} ", f" ON {q(table.name)} ") for s in indexes],
        ]
