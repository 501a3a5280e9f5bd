"""Migrations: bring tables to match their models, recording each change.

``migrate(engine, models)`` compares each model with its table in the database and:

- creates a missing table (with its indexes);
- adds columns the model has and the table lacks (a NOT NULL column needs a ``Field(default=)``
  that is a plain int, float, str or bool, or an empty table);
- changes the length of ``str`` columns (``max_length``): widening is applied, narrowing is
  refused with ``SchemaError`` unless ``allow_destructive=True``;
- drops columns the table has and the model lacks — refused with ``SchemaError`` when the column
  holds any non-NULL value, unless ``allow_destructive=True``. SQLite rebuilds the table (new
  table, copy, drop, rename, re-create indexes) because its ``ALTER TABLE`` cannot drop indexed,
  unique or key columns.

All changes run in one transaction (PostgreSQL and SQLite undo DDL on failure; MySQL commits each
DDL statement implicitly) and each applied statement is recorded in ``gee_migrations``. With
``dry_run=True`` nothing is changed: the statements are returned (and logged) instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gee.orm.errors import SchemaError
from gee.orm.schema import MISSING, Field, Model, Table, table_of

if TYPE_CHECKING:
    from gee.orm.engine import Engine
    from gee.orm.session import Session

__all__ = ["MIGRATIONS_TABLE", "Migration", "migrate", "plan"]

log = logging.getLogger("gee.orm.migrate")

_VARCHAR = re.compile(r"VARCHAR\((\d+)\)")

MIGRATIONS_TABLE = "gee_migrations"


class Migration(Model, table=MIGRATIONS_TABLE):
    """One applied statement: when, and what."""

    id: int | None = Field(default=None, primary_key=True)
    applied_at: dt.datetime
    statement: str


def _literal(value: object) -> str | None:
    """A SQL literal for a simple default value, or None when there is none."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def plan(session: Session, table: Table, allow_destructive: bool) -> list[str]:
    """The statements that bring ``table`` to its model (empty when it already matches)."""
    dialect = session.dialect
    if not session.has_table(table.model):
        return dialect.create_table(table)
    conn = session._connection()
    existing = dialect.table_columns(conn, table.name)
    wanted = {c.column for c in table.columns}
    statements: list[str] = []
    q = dialect.quote
    empty = not session._select(f"SELECT 1 FROM {q(table.name)} LIMIT 1", ())
    added = [c for c in table.columns if c.column not in existing]
    removed = [name for name in existing if name not in wanted]
    for name in removed:
        sql = f"SELECT 1 FROM {q(table.name)} WHERE {q(name)} IS NOT NULL LIMIT 1"
        if session._select(sql, ()) and not allow_destructive:
            raise SchemaError(
                f"migrating {table.name} would drop column {name!r}, which holds data; pass "
                "allow_destructive=True to drop it"
            )
    lengths = dialect.column_lengths(conn, table.name)
    resized = []
    for column in table.columns:
        if column.column not in existing or column.primary_key:
            continue
        old = lengths.get(column.column)
        match = _VARCHAR.fullmatch(dialect.column_type(column))
        new = int(match.group(1)) if match else None
        if column.kind not in ("str", "enum") or old == new:
            continue
        if new is not None and (old is None or new < old) and not allow_destructive:
            was = f"VARCHAR({old})" if old is not None else "unbounded text"
            raise SchemaError(
                f"migrating {table.name} would narrow column {column.column!r} from {was} to "
                f"VARCHAR({new}); pass allow_destructive=True to narrow it"
            )
        resized.append(column)
    defaults: dict[str, str | None] = {}
    for column in added:
        default = None if column.default is MISSING else _literal(column.default)
        if column.primary_key:
            raise SchemaError(f"cannot add primary-key column {column.qualname} by migration")
        if not column.nullable and default is None and not empty:
            raise SchemaError(
                f"cannot add NOT NULL column {column.qualname} to non-empty {table.name} without "
                "a simple Field(default=...); make it Optional or give a default"
            )
        defaults[column.column] = default
    if dialect.name == "sqlite" and (removed or resized):
        keep = [name for name in existing if name in wanted]
        fill = {name: value for name, value in defaults.items() if value is not None}
        statements += dialect.rebuild_table(table, keep, fill)  # type: ignore[attr-defined]
        return statements
    for column in added:
        statements.append(dialect.add_column(table, column, defaults[column.column]))
    for index_name, cols, unique in table.indexes:
        if not unique and any(c.column in {a.column for a in added} for c in cols):
            names = ", ".join(q(c.column) for c in cols)
            statements.append(f"CREATE INDEX {q(index_name)} ON {q(table.name)} ({names})")
    for column in resized:
        statements.append(dialect.alter_type(table, column))
    for name in removed:
        statements.append(dialect.drop_column(table.name, name))
    return statements


def migrate(
    engine: Engine,
    models: Sequence[type[Model]],
    *,
    allow_destructive: bool = False,
    dry_run: bool = False,
) -> list[str]:
    """Migrate ``models``' tables; return the statements applied (or, with dry_run, planned)."""
    tables = [table_of(m) for m in models]
    with engine.session() as s:
        planned: list[str] = []
        for table in tables:
            planned += plan(s, table, allow_destructive)
        if dry_run:
            for statement in planned:
                log.info("dry run: %s", statement)
            return planned
        if not planned:
            return []
        with s.transaction():
            ddl = [] if s.has_table(Migration) else s.dialect.create_table(table_of(Migration))
            s._ddl(ddl + planned)
            now = dt.datetime.now().replace(microsecond=0)
            s.insert_many([Migration(applied_at=now, statement=st) for st in planned])
        return planned
