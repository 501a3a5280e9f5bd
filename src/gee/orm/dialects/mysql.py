"""MySQL and MariaDB through PyMySQL.

Tables are created ``utf8mb4`` with the binary collation, so strings round-trip exactly and
compare as they do in SQLite and PostgreSQL (case- and trailing-space-sensitive) rather than
MySQL's default case-insensitive collation. Unbounded ``str`` is ``TEXT``, except where MySQL
needs a length (keys, unique and indexed columns: ``VARCHAR(255)`` unless ``max_length`` says).
``Decimal`` is ``DECIMAL(65, 30)``: values are rounded to 30 places. Generated keys come from the
connection's last insert id; an upsert assigns ``id = LAST_INSERT_ID(id)`` so that the id is
right whether the row was inserted or updated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gee.orm.clause import Column, Context
from gee.orm.dialects.base import (
    Connection,
    Dialect,
    Reader,
    Writer,
    _enum_writer,
    enum_value,
    json_dumps,
)
from gee.orm.errors import ConfigError, ProgrammingError, translate

if TYPE_CHECKING:
    from gee.orm.engine import URL
    from gee.orm.schema import Table

__all__ = ["MySQLDialect"]

# Server errors PyMySQL reports as OperationalError that are mistakes in the SQL, not failures of
# the connection: table exists (1050), unknown table (1051), unknown column (1054), duplicate
# column or index name (1060, 1061), cannot drop (1091), no such table (1146).
_PROGRAMMING_CODES = frozenset({1049, 1050, 1051, 1054, 1060, 1061, 1091, 1146})

_NO_LIMIT = 18446744073709551615  # MySQL's documented "all rows" for OFFSET without LIMIT


class MySQLDialect(Dialect):
    name = "mysql"
    placeholder = "%s"
    quote_char = "`"
    returning = False
    transactional_ddl = False
    types = {
        "int": "BIGINT",
        "float": "DOUBLE",
        "str": "TEXT",
        "bytes": "LONGBLOB",
        "bool": "BOOLEAN",
        "datetime": "DATETIME(6)",
        "date": "DATE",
        "decimal": "DECIMAL(65, 30)",
        "uuid": "CHAR(36)",
        "json": "JSON",
    }
    writers: dict[str, Writer] = {"enum": _enum_writer, "uuid": str, "json": json_dumps}
    readers: dict[str, Reader] = {"bool": bool, "uuid": uuid.UUID, "json": json.loads}

    def column_type(self, column: Column[Any]) -> str:
        keyed = column.primary_key or column.unique or column.index or self._in_index(column)
        if column.kind in ("str", "enum") and column.max_length is None and keyed:
            first = enum_value(column) if column.kind == "enum" else ""
            if isinstance(first, str):
                return "VARCHAR(255)"
        return super().column_type(column)

    @staticmethod
    def _in_index(column: Column[Any]) -> bool:
        table = column.table
        return table is not None and any(c is column for _, cols, _ in table.indexes for c in cols)

    def auto_column(self, column: Column[Any]) -> str:
        return f"{self.quote(column.column)} BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"

    def table_options(self) -> str:
        return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

    def limit_offset(self, ctx: Context, limit: int | None, offset: int | None) -> None:
        if limit is None:
            limit = _NO_LIMIT
        ctx.sql(" LIMIT ").param(limit)
        if offset is not None:
            ctx.sql(" OFFSET ").param(offset)

    def default_values(self) -> str:
        return "() VALUES ()"

    def has_table(self, name: str) -> tuple[str, tuple[object, ...]]:
        return (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = DATABASE() AND table_name = %s",
            (name,),
        )

    def table_columns(self, conn: Connection, name: str) -> list[str]:
        rows = self.fetchall(
            conn,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = %s ORDER BY ordinal_position",
            (name,),
        )
        return [row[0] for row in rows]

    def column_lengths(self, conn: Connection, name: str) -> dict[str, int]:
        rows = self.fetchall(
            conn,
            "SELECT column_name, character_maximum_length FROM information_schema.columns"
            " WHERE table_schema = DATABASE() AND table_name = %s AND data_type = 'varchar'",
            (name,),
        )
        return {row[0]: int(row[1]) for row in rows}

    def alter_type(self, table: Table, column: Column[Any]) -> str:
        q = self.quote
        null = "NULL" if column.nullable else "NOT NULL"
        return (
            f"ALTER TABLE {q(table.name)} MODIFY COLUMN {q(column.column)} "
            f"{self.column_type(column)} {null}"
        )

    def upsert(
        self,
        table: Table,
        columns: Sequence[Column[Any]],
        conflict: Sequence[Column[Any]],
        update: Sequence[Column[Any]],
        returning: bool,
    ) -> str:
        """``INSERT ... ON DUPLICATE KEY UPDATE``: MySQL picks the conflicting key itself."""
        q = self.quote
        sql = self.insert(table, columns, returning=False)
        sets = [f"{q(c.column)} = VALUES({q(c.column)})" for c in update]
        if table.auto is not None:
            pk = q(table.auto.column)
            sets.append(f"{pk} = LAST_INSERT_ID({pk})")
        elif not sets:
            first = q(columns[0].column)
            sets.append(f"{first} = {first}")  # MySQL has no DO NOTHING
        return sql + " ON DUPLICATE KEY UPDATE " + ", ".join(sets)

    def translate(self, exc: BaseException, sql: str, params: Sequence[object]) -> Exception:
        code = exc.args[0] if exc.args else None
        if type(exc).__name__ == "OperationalError" and code in _PROGRAMMING_CODES:
            return ProgrammingError(f"{type(exc).__name__}: {exc}", sql, params)
        return translate(exc, sql, params)

    def connect(self, url: URL) -> Connection:
        try:
            import pymysql  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise ConfigError("mysql:// needs PyMySQL: pip install pymysql") from None
        from pymysql.constants import CLIENT  # type: ignore[import-untyped, unused-ignore]

        self.error = pymysql.err.Error
        # FOUND_ROWS: rowcount counts matched rows, as SQLite and PostgreSQL do, not changed ones.
        options: dict[str, Any] = {
            "charset": "utf8mb4",
            "autocommit": True,
            "client_flag": CLIENT.FOUND_ROWS,
        }
        options.update(url.options)
        return pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=url.user or "root",
            password=url.password or "",
            database=url.database or None,
            **options,
        )
