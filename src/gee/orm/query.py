"""Query: a chain that reads like SQL, each step returning a new query.

::

    s.query(User).where(User.age > 18, col(User.name).like("a%"))
        .order_by(col(User.age).desc()).limit(10).offset(5).all()

Chaining copies the query (it is immutable), so a base query can be shared and refined.
Terminal methods (``all``, ``first``, ``one``, ``count``, ``exists``, ``update``, ``delete``)
render the tree once and run it through the session.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from gee.orm.clause import Column, Expr, Func, Node, Ordering, Raw, condition
from gee.orm.errors import MultipleResultsFound, NoResultFound, QueryError
from gee.orm.hooks import AFTER_QUERY, run_hooks
from gee.orm.mapping import loader, row_converter
from gee.orm.schema import Model, Table, table_of
from gee.orm.statements import Delete, Select, Update

if TYPE_CHECKING:
    from gee.orm.session import Session

__all__ = ["Query"]

R = TypeVar("R")
M = TypeVar("M", bound=Model)


class Query(Generic[R]):
    """Rows of one model (``R`` is the model) or, after ``select``, tuples."""

    __slots__ = (
        "_columns",
        "_group_by",
        "_having",
        "_joins",
        "_limit",
        "_offset",
        "_order_by",
        "_session",
        "_table",
        "_where",
    )

    def __init__(self, session: Session, table: Table) -> None:
        self._session = session
        self._table = table
        self._columns: tuple[Node, ...] | None = None  # None: whole model instances
        self._where: tuple[Node, ...] = ()
        self._joins: tuple[tuple[Table, Node], ...] = ()
        self._group_by: tuple[Node, ...] = ()
        self._having: tuple[Node, ...] = ()
        self._order_by: tuple[Node, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None

    def _copy(self, **changes: Any) -> Query[R]:
        new = copy.copy(self)
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    # ------------------------------------------------------------------ building

    @overload
    def where(self, sql: str, /, *args: object) -> Query[R]: ...

    @overload
    def where(self, *conditions: Expr | bool) -> Query[R]: ...

    def where(self, *conditions: object) -> Query[R]:
        """Keep rows matching all ``conditions``.

        A string condition is SQL with ``?`` placeholders, GeeORM style: ``where("age > ?", 18)``
        — the values after the string are its parameters.
        """
        if conditions and isinstance(conditions[0], str):
            text, values = conditions[0], conditions[1:]
            return self._copy(_where=(*self._where, Raw(text, values)))
        terms = tuple(self._condition(c) for c in conditions)
        if not terms:
            raise QueryError("where() needs at least one condition")
        return self._copy(_where=self._where + terms)

    def _condition(self, term: object) -> Node:
        if isinstance(term, str):
            raise QueryError("a SQL string condition must be where()'s first and only condition")
        return condition(term)

    def filter_by(self, **values: object) -> Query[R]:
        """Keep rows whose fields equal ``values``: ``filter_by(name="ann", age=30)``."""
        table = self._table
        return self._copy(
            _where=self._where + tuple(table.column(k) == v for k, v in values.items())
        )

    def join(self, other: type[Model], *, on: Expr | bool) -> Query[R]:
        """Inner-join ``other`` on condition ``on``; rows are still of this query's model."""
        return self._copy(_joins=(*self._joins, (table_of(other), condition(on))))

    def order_by(self, *terms: Any) -> Query[R]:
        """Sort by columns, ``col(User.age).desc()``, or field names (``"-age"``: descending)."""
        return self._copy(_order_by=self._order_by + tuple(self._ordering(t) for t in terms))

    def _ordering(self, term: object) -> Node:
        if isinstance(term, str):
            if term.startswith("-"):
                return Ordering(self._table.column(term[1:]), " DESC")
            return self._table.column(term)
        if isinstance(term, Node):
            return term
        raise QueryError(f"order_by() takes columns or field names; got {term!r}")

    def group_by(self, *columns: Any) -> Query[R]:
        return self._copy(_group_by=self._group_by + tuple(self._ordering(c) for c in columns))

    def having(self, *conditions: Expr | bool) -> Query[R]:
        return self._copy(_having=self._having + tuple(condition(c) for c in conditions))

    def limit(self, n: int) -> Query[R]:
        return self._copy(_limit=_count("limit", n))

    def offset(self, n: int) -> Query[R]:
        return self._copy(_offset=_count("offset", n))

    def select(self, *columns: Any) -> Query[tuple[Any, ...]]:
        """Return tuples of ``columns`` (columns, ``func`` calls, field names), not models."""
        if not columns:
            raise QueryError("select() needs at least one column")
        nodes = tuple(self._ordering(c) if isinstance(c, str) else _expr(c) for c in columns)
        return self._copy(_columns=nodes)  # type: ignore[return-value]

    # ------------------------------------------------------------------ rendering

    def _select(self, columns: tuple[Node, ...] | None = None, limit: int | None = None) -> Select:
        return Select(
            self._table,
            columns or self._columns or tuple(self._table.columns),
            where=self._where,
            joins=self._joins,
            group_by=self._group_by,
            having=self._having,
            order_by=self._order_by,
            limit=limit if limit is not None else self._limit,
            offset=self._offset,
        )

    def sql(self) -> tuple[str, list[object]]:
        """The SELECT this query runs, as ``(sql, params)`` for this session's dialect."""
        return self._select().compile(self._session.dialect)

    # ------------------------------------------------------------------ running

    def all(self) -> list[R]:
        return self._run(self._select())

    def __iter__(self) -> Iterator[R]:
        return iter(self.all())

    def first(self) -> R | None:
        rows = self._run(self._select(limit=1))
        return rows[0] if rows else None

    def one(self) -> R:
        """The only row; ``NoResultFound`` or ``MultipleResultsFound`` otherwise."""
        rows = self._run(self._select(limit=2))
        if not rows:
            raise NoResultFound(f"no {self._table.model.__name__} matched")
        if len(rows) > 1:
            raise MultipleResultsFound(f"more than one {self._table.model.__name__} matched")
        return rows[0]

    def _run(self, statement: Select) -> list[R]:
        session = self._session
        dialect = session.dialect
        sql, params = statement.compile(dialect)
        rows = session._select(sql, params)
        if self._columns is None:
            objects = loader(dialect, self._table)(rows)
            if AFTER_QUERY in self._table.hooks:
                run_hooks(AFTER_QUERY, objects, session)
            return objects
        readers = [dialect.reader(c) if isinstance(c, Column) else None for c in self._columns]
        convert = row_converter(dialect, readers)
        if convert is None:
            return list(rows)  # every driver here returns rows as tuples already
        return convert(rows)  # type: ignore[return-value]

    def count(self) -> int:
        """How many rows match (counting groups when grouped, within limit/offset if set)."""
        star = (Func("COUNT", ()),)
        if self._group_by or self._limit is not None or self._offset is not None:
            inner, params = self._select(columns=(Raw("1"),)).compile(self._session.dialect)
            sql = f"SELECT COUNT(*) FROM ({inner}) AS gee_count"
        else:
            plain = self._copy(_order_by=())
            sql, params = plain._select(columns=star).compile(self._session.dialect)
        return int(self._session._select(sql, params)[0][0])

    def exists(self) -> bool:
        sql, params = self._select(columns=(Raw("1"),), limit=1).compile(self._session.dialect)
        return bool(self._session._select(sql, params))

    def update(self, **values: object) -> int:
        """Set fields on every matching row; return how many matched.

        Keys are field names (anything else raises ``QueryError``); values are checked against
        the field's type, or are expressions such as ``col(User.age) + 1``.
        """
        if not values:
            raise QueryError("update() needs at least one field=value")
        self._bulk_check("update")
        table = self._table
        assignments = []
        for name, value in values.items():
            column = table.column(name)
            if value is None and not column.nullable:
                raise QueryError(f"{column.qualname} is NOT NULL; got None")
            assignments.append((column, column._bind(value)))
        sql, params = Update(table, assignments, self._where).compile(self._session.dialect)
        return self._session._execute(sql, params)[0]

    def delete(self) -> int:
        """Delete every matching row; return how many."""
        self._bulk_check("delete")
        sql, params = Delete(self._table, self._where).compile(self._session.dialect)
        return self._session._execute(sql, params)[0]

    def _bulk_check(self, what: str) -> None:
        if self._joins or self._group_by or self._limit is not None or self._offset is not None:
            raise QueryError(f"{what}() applies to where() conditions only, not joins or limits")

    def __repr__(self) -> str:
        return f"<Query {self.sql()[0]}>"


def _count(what: str, n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise QueryError(f"{what}() takes a non-negative int; got {n!r}")
    return n


def _expr(term: object) -> Node:
    if isinstance(term, Node):
        return term
    raise QueryError(f"select() takes columns, func calls or field names; got {term!r}")
