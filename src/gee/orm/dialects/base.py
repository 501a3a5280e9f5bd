"""What differs between databases, behind one small class per database.

A dialect owns: identifier quoting and the placeholder, the SQL type of each column kind, the
conversions of values on their way in (``writer``) and out (``reader``), DDL, INSERT with
generated keys (``RETURNING`` or the cursor's last-insert-id), upsert syntax, "does this table
exist", and the DB-API calls the session makes (``connect``, ``cursor``, ``fetchall``, ``select``,
``execute``, ``executemany``). Everything else in gee.orm is written once against this class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gee.orm.clause import Column, Context
from gee.orm.errors import SchemaError

if TYPE_CHECKING:
    from gee.orm.engine import URL
    from gee.orm.schema import Table

__all__ = ["Connection", "Dialect"]

# A DB-API 2 connection; the drivers' own classes have no common typed base.
Connection = Any
Reader = Callable[[Any], Any]
Writer = Callable[[Any], Any]


def _enum_writer(value: Any) -> Any:
    return value.value


def enum_value(column: Column[Any]) -> object:
    """The value of the first member of an Enum column's type (which decides its SQL type)."""
    members: Any = column.python_type
    return next(iter(members)).value


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Dialect:
    """Base class; subclasses set the class attributes and override what their database needs.

    ``writers`` maps a column kind to the function that turns a Python value into what the driver
    takes (absent: the driver takes it as is); ``readers`` maps a kind to the function that turns
    what the driver returns into the Python value (absent: as is).
    """

    name = ""
    placeholder = "?"
    quote_char = '"'
    # True: INSERT ... RETURNING fetches generated keys; False: cursor.lastrowid does.
    returning = False
    # True: DDL can run inside a transaction and be rolled back (not MySQL).
    transactional_ddl = True
    types: dict[str, str] = {}
    writers: dict[str, Writer] = {"enum": _enum_writer}
    readers: dict[str, Reader] = {}
    # The driver's exception base, translated by ``translate`` (set once the driver is imported).
    error: type[BaseException] = Exception

    def __init__(self) -> None:
        # Rendered SQL and generated functions per (table, statement shape), and insert plans per
        # model class; shared by every session of an engine.
        self.cache: dict[object, Any] = {}

    # -------------------------------------------------------------- quoting and values

    def quote(self, name: str) -> str:
        q = self.quote_char
        return f"{q}{name.replace(q, q + q)}{q}"

    def writer(self, kind: str) -> Writer | None:
        return self.writers.get(kind)

    def reader(self, column: Column[Any]) -> Reader | None:
        """The conversion for values read from ``column``, or None when the driver's is right."""
        if column.kind == "enum":
            return column.python_type
        return self.readers.get(column.kind)

    def limit_offset(self, ctx: Context, limit: int | None, offset: int | None) -> None:
        if limit is not None:
            ctx.sql(" LIMIT ").param(limit)
        if offset is not None:
            ctx.sql(" OFFSET ").param(offset)

    # -------------------------------------------------------------- DDL

    def column_type(self, column: Column[Any]) -> str:
        kind = column.kind
        if kind == "enum":
            if isinstance(enum_value(column), int):
                return self.types["int"]
            kind = "str"
        if kind in ("str", "enum") and column.max_length is not None:
            return f"VARCHAR({column.max_length})"
        try:
            return self.types[kind]
        except KeyError:
            raise SchemaError(f"{self.name} has no type for {column.qualname} ({kind})") from None

    def auto_column(self, column: Column[Any]) -> str:
        """DDL of a generated single integer primary key."""
        raise NotImplementedError

    def column_ddl(self, column: Column[Any], table: Table) -> str:
        if column is table.auto:
            return self.auto_column(column)
        parts = [self.quote(column.column), self.column_type(column)]
        if not column.nullable:
            parts.append("NOT NULL")
        if column.primary_key and len(table.primary_key) == 1:
            parts.append("PRIMARY KEY")
        elif column.unique:
            parts.append("UNIQUE")
        return " ".join(parts)

    def table_options(self) -> str:
        return ""

    def create_table(self, table: Table, name: str | None = None) -> list[str]:
        """The statements that create ``table`` (under ``name`` if given) and its indexes."""
        q = self.quote
        target = name or table.name
        parts = [self.column_ddl(c, table) for c in table.columns]
        if len(table.primary_key) > 1:
            parts.append(f"PRIMARY KEY ({', '.join(q(c.column) for c in table.primary_key)})")
        for index_name, cols, unique in table.indexes:
            if unique:
                names = ", ".join(q(c.column) for c in cols)
                parts.append(f"CONSTRAINT {q(index_name)} UNIQUE ({names})")
        for c in table.columns:
            ref = c.foreign_key
            if ref is not None and ref.table is not None:
                fk = f"CONSTRAINT {q(f'fk_{table.name}_{c.column}')} FOREIGN KEY ({q(c.column)})"
                fk += f" REFERENCES {q(ref.table.name)} ({q(ref.column)})"
                if c.on_delete:
                    fk += f" ON DELETE {c.on_delete}"
                parts.append(fk)
        statements = [f"CREATE TABLE {q(target)} ({', '.join(parts)}){self.table_options()}"]
        statements += self.create_indexes(table, target)
        return statements

    def create_indexes(self, table: Table, target: str) -> list[str]:
        q = self.quote
        return [
            f"CREATE INDEX {q(index_name)} ON {q(target)} ({', '.join(q(c.column) for c in cols)})"
            for index_name, cols, unique in table.indexes
            if not unique
        ]

    def drop_table(self, name: str, if_exists: bool = False) -> str:
        return f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{self.quote(name)}"

    def has_table(self, name: str) -> tuple[str, tuple[object, ...]]:
        """A query returning a row when table ``name`` exists."""
        raise NotImplementedError

    def table_columns(self, conn: Connection, name: str) -> list[str]:
        """The column names of table ``name`` in the database, in order."""
        raise NotImplementedError

    def column_lengths(self, conn: Connection, name: str) -> dict[str, int]:
        """The declared length of each ``VARCHAR(n)`` column of table ``name`` in the database."""
        raise NotImplementedError

    def alter_type(self, table: Table, column: Column[Any]) -> str:
        """Change ``column``'s type in the database to the model's (PostgreSQL's spelling)."""
        q = self.quote
        return (
            f"ALTER TABLE {q(table.name)} ALTER COLUMN {q(column.column)} "
            f"TYPE {self.column_type(column)}"
        )

    def add_column(self, table: Table, column: Column[Any], default: str | None) -> str:
        ddl = self.column_ddl(column, table)
        if default is not None:
            ddl += f" DEFAULT {default}"
        return f"ALTER TABLE {self.quote(table.name)} ADD COLUMN {ddl}"

    def drop_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {self.quote(table)} DROP COLUMN {self.quote(column)}"

    # -------------------------------------------------------------- DML

    def insert(self, table: Table, columns: Sequence[Column[Any]], returning: bool) -> str:
        """``INSERT INTO t (cols) VALUES (...)``, with ``RETURNING pk`` when asked and able."""
        q = self.quote
        names = ", ".join(q(c.column) for c in columns)
        marks = ", ".join([self.placeholder] * len(columns))
        if not columns:
            sql = f"INSERT INTO {q(table.name)} {self.default_values()}"
        else:
            sql = f"INSERT INTO {q(table.name)} ({names}) VALUES ({marks})"
        if returning and self.returning and table.auto is not None:
            sql += f" RETURNING {q(table.auto.column)}"
        return sql

    def default_values(self) -> str:
        return "DEFAULT VALUES"

    def upsert(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        conflict: Sequence[Column[Any]],
        update: Sequence[Column[Any]],
        returning: bool,
    ) -> str:
        """``INSERT ... ON CONFLICT (conflict) DO UPDATE SET col = excluded.col`` (SQLite, PG)."""
        q = self.quote
        sql = self.insert(table, columns, returning=False)
        sql += f" ON CONFLICT ({', '.join(q(c.column) for c in conflict)})"
        if update:
            sets = ", ".join(f"{q(c.column)} = excluded.{q(c.column)}" for c in update)
            sql += f" DO UPDATE SET {sets}"
        else:
            sql += " DO NOTHING"
        if returning and table.auto is not None:
            sql += f" RETURNING {q(table.auto.column)}"
        return sql

    # -------------------------------------------------------------- DB-API calls

    def connect(self, url: URL) -> Connection:
        """A new DB-API connection in autocommit mode (gee issues BEGIN itself)."""
        raise NotImplementedError

    def cursor(self, conn: Connection) -> Connection:
        """What a session runs its statements on: ``conn`` itself here (a cursor per statement).

        A dialect whose driver's cursors are cheap to reuse returns one long-lived cursor
        instead, saving a cursor's set-up and close per statement; the DB-API calls below then
        get that cursor as their ``conn``.
        """
        return conn

    def fetchall(self, conn: Connection, sql: str, params: Sequence[object]) -> list[Any]:
        """Run a statement; return its rows ([] for a statement that returns none)."""
        with conn.cursor() as cur:
            cur.execute(sql, params)
            if cur.description is None:
                return []
            return cur.fetchall()  # type: ignore[no-any-return]  # a list, or PyMySQL's tuple

    def select(self, conn: Connection, sql: str, params: Sequence[object]) -> list[Any]:
        """Run a statement known to return rows (SELECT, RETURNING); return them.

        Unlike ``fetchall`` it never asks the cursor for its ``description``, which some drivers
        (psycopg) build on demand, column objects and all, for every statement.
        """
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()  # type: ignore[no-any-return]

    def execute(
        self, conn: Connection, sql: str, params: Sequence[object]
    ) -> tuple[int, int | None]:
        """Run a statement; return ``(rowcount, lastrowid)``."""
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.rowcount, cur.lastrowid

    def executemany(self, conn: Connection, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run ``sql`` for each of ``rows`` (a list or an iterator); return the rows affected."""
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
            return cur.rowcount  # type: ignore[no-any-return]

    def translate(self, exc: BaseException, sql: str, params: Sequence[object]) -> Exception:
        from gee.orm.errors import translate

        return translate(exc, sql, params)
