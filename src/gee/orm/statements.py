"""Statements: SELECT, UPDATE and DELETE as nodes of the clause tree.

Each renders itself and its parts (columns, conditions, orderings from ``gee.orm.clause``) into
one ``Context``; INSERT and upsert, whose shape is fixed per model, are rendered by the dialects
and cached instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gee.orm.clause import Column, Context, Node

if TYPE_CHECKING:
    from gee.orm.schema import Table

__all__ = ["Delete", "Select", "Update"]


class Select(Node):
    """``SELECT columns FROM table [JOIN ...] [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT]``."""

    __slots__ = (
        "columns",
        "group_by",
        "having",
        "joins",
        "limit",
        "offset",
        "order_by",
        "table",
        "where",
    )

    def __init__(
        self,
        table: Table,
        columns: Sequence[Node],
        *,
        where: Sequence[Node] = (),
        joins: Sequence[tuple[Table, Node]] = (),
        group_by: Sequence[Node] = (),
        having: Sequence[Node] = (),
        order_by: Sequence[Node] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.table = table
        self.columns = columns
        self.where = where
        self.joins = joins
        self.group_by = group_by
        self.having = having
        self.order_by = order_by
        self.limit = limit
        self.offset = offset

    def render(self, ctx: Context) -> None:
        quote = ctx.dialect.quote
        if self.joins:
            ctx.qualify = True
        ctx.parts.append("SELECT ")
        ctx.join(self.columns)
        ctx.parts.append(" FROM ")
        ctx.parts.append(quote(self.table.name))
        for other, on in self.joins:
            ctx.parts.append(f" JOIN {quote(other.name)} ON ")
            on.render(ctx)
        if self.where:
            ctx.parts.append(" WHERE ")
            ctx.join(self.where, " AND ")
        if self.group_by:
            ctx.parts.append(" GROUP BY ")
            ctx.join(self.group_by)
        if self.having:
            ctx.parts.append(" HAVING ")
            ctx.join(self.having, " AND ")
        if self.order_by:
            ctx.parts.append(" ORDER BY ")
            ctx.join(self.order_by)
        if self.limit is not None or self.offset is not None:
            ctx.dialect.limit_offset(ctx, self.limit, self.offset)


class Update(Node):
    """``UPDATE table SET column = value, ... [WHERE ...]``."""

    __slots__ = ("assignments", "table", "where")

    def __init__(
        self, table: Table, assignments: Sequence[tuple[Column[Any], Node]], where: Sequence[Node]
    ) -> None:
        self.table = table
        self.assignments = assignments
        self.where = where

    def render(self, ctx: Context) -> None:
        quote = ctx.dialect.quote
        ctx.parts.append(f"UPDATE {quote(self.table.name)} SET ")
        first = True
        for column, value in self.assignments:
            if not first:
                ctx.parts.append(", ")
            first = False
            ctx.parts.append(f"{quote(column.column)} = ")
            value.render(ctx)
        if self.where:
            ctx.parts.append(" WHERE ")
            ctx.join(self.where, " AND ")


class Delete(Node):
    """``DELETE FROM table [WHERE ...]``."""

    __slots__ = ("table", "where")

    def __init__(self, table: Table, where: Sequence[Node]) -> None:
        self.table = table
        self.where = where

    def render(self, ctx: Context) -> None:
        ctx.parts.append(f"DELETE FROM {ctx.dialect.quote(self.table.name)}")
        if self.where:
            ctx.parts.append(" WHERE ")
            ctx.join(self.where, " AND ")
