"""The SQL expression tree: nodes that render themselves into a ``Context``.

Every piece of a statement — a column, a bound value, ``a > b``, ``COUNT(*)``, and the
statements themselves (``gee.orm.statements``) — is a ``Node`` whose ``render(ctx)`` appends
SQL text and bound parameters to one ``Context``. The context knows the dialect's quoting and
placeholder, so one tree renders for SQLite, PostgreSQL and MySQL; values are always
parameters, never formatted into the text, and identifiers come only from models (quoted by the
dialect) or are checked against ``IDENT``.

This module is a leaf: it knows nothing of sessions, engines or models beyond the ``Column``
objects a model puts on its class.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from gee.orm.errors import QueryError

if TYPE_CHECKING:
    from gee.orm.schema import Table

__all__ = [
    "IDENT",
    "Column",
    "Context",
    "Expr",
    "Func",
    "Node",
    "Ordering",
    "Raw",
    "Renderer",
    "and_",
    "col",
    "func",
    "not_",
    "or_",
]

T = TypeVar("T")

# A name that can be used as an identifier or function name without quoting worries.
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Renderer(Protocol):
    """What a ``Context`` needs from a dialect: quoting, the placeholder, value writers, and
    LIMIT/OFFSET (whose spelling without a LIMIT differs between databases)."""

    placeholder: str

    def quote(self, name: str) -> str: ...

    def writer(self, kind: str) -> Callable[[Any], Any] | None: ...

    def limit_offset(self, ctx: Context, limit: int | None, offset: int | None) -> None: ...


class Context:
    """Collects SQL text and bound parameters while a tree renders.

    ``qualify`` makes columns render as ``"table"."column"`` (on when a statement joins tables).
    """

    __slots__ = ("dialect", "params", "parts", "qualify")

    def __init__(self, dialect: Renderer, *, qualify: bool = False) -> None:
        self.dialect = dialect
        self.parts: list[str] = []
        self.params: list[object] = []
        self.qualify = qualify

    def sql(self, text: str) -> Context:
        self.parts.append(text)
        return self

    def param(self, value: object, kind: str | None = None) -> Context:
        """Bind ``value``, converted by the dialect's writer for column ``kind``."""
        if kind is not None and value is not None:
            write = self.dialect.writer(kind)
            if write is not None:
                value = write(value)
        self.parts.append(self.dialect.placeholder)
        self.params.append(value)
        return self

    def node(self, node: Node) -> Context:
        node.render(self)
        return self

    def join(self, nodes: Iterable[Node], sep: str = ", ") -> Context:
        first = True
        for node in nodes:
            if not first:
                self.parts.append(sep)
            first = False
            node.render(self)
        return self

    def finish(self) -> tuple[str, list[object]]:
        return "".join(self.parts), self.params


class Node:
    """A piece of SQL that renders itself into a ``Context``."""

    __slots__ = ()

    def render(self, ctx: Context) -> None:
        raise NotImplementedError

    def compile(self, dialect: Renderer) -> tuple[str, list[object]]:
        """Render alone and return ``(sql, params)``: what tests and ``explain`` use."""
        ctx = Context(dialect)
        self.render(ctx)
        return ctx.finish()


class Expr(Node):
    """A value expression. Comparisons build condition nodes instead of returning bools.

    ``bool(expr)`` raises: ``a == b and c`` would silently drop a condition; use ``and_``.
    """

    __slots__ = ()
    # Column kind used to convert values compared with this expression (None: as given).
    kind: str | None = None

    def _bind(self, value: object) -> Node:
        if isinstance(value, Node):
            return value
        return Param(value, self.kind)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        if other is None:
            return Postfix(self, " IS NULL")
        return Binary(self, " = ", self._bind(other))

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        if other is None:
            return Postfix(self, " IS NOT NULL")
        return Binary(self, " <> ", self._bind(other))

    def __lt__(self, other: object) -> Expr:
        return Binary(self, " < ", self._bind(other))

    def __le__(self, other: object) -> Expr:
        return Binary(self, " <= ", self._bind(other))

    def __gt__(self, other: object) -> Expr:
        return Binary(self, " > ", self._bind(other))

    def __ge__(self, other: object) -> Expr:
        return Binary(self, " >= ", self._bind(other))

    def __add__(self, other: object) -> Expr:
        return Binary(self, " + ", self._bind(other), parens=True)

    def __sub__(self, other: object) -> Expr:
        return Binary(self, " - ", self._bind(other), parens=True)

    def __mul__(self, other: object) -> Expr:
        return Binary(self, " * ", self._bind(other), parens=True)

    def __truediv__(self, other: object) -> Expr:
        return Binary(self, " / ", self._bind(other), parens=True)

    __hash__ = Node.__hash__

    def __bool__(self) -> bool:
        raise TypeError("a SQL expression has no truth value; combine conditions with and_/or_")

    def like(self, pattern: str) -> Expr:
        return Binary(self, " LIKE ", Param(pattern))

    def not_like(self, pattern: str) -> Expr:
        return Binary(self, " NOT LIKE ", Param(pattern))

    def in_(self, values: Iterable[object]) -> Expr:
        items = [self._bind(v) for v in values]
        if not items:  # "x IN ()" is a syntax error; an empty set matches nothing
            return Raw("1 = 0")
        return In(self, items, " IN (")

    def not_in(self, values: Iterable[object]) -> Expr:
        items = [self._bind(v) for v in values]
        if not items:
            return Raw("1 = 1")
        return In(self, items, " NOT IN (")

    def between(self, low: object, high: object) -> Expr:
        return Between(self, self._bind(low), self._bind(high))

    def is_(self, value: None) -> Expr:
        if value is not None:
            raise QueryError(f"is_() compares with None only; got {value!r}; use == instead")
        return Postfix(self, " IS NULL")

    def is_not(self, value: None) -> Expr:
        if value is not None:
            raise QueryError(f"is_not() compares with None only; got {value!r}; use != instead")
        return Postfix(self, " IS NOT NULL")

    def asc(self) -> Ordering:
        return Ordering(self, " ASC")

    def desc(self) -> Ordering:
        return Ordering(self, " DESC")


class Column(Expr, Generic[T]):
    """A mapped column, found on the model class: ``User.age`` (typed spelling ``col(User.age)``).

    Values compared with a column are checked against its Python type and converted by the
    dialect's writer for its ``kind``; a wrong type raises ``QueryError`` before any SQL is sent.
    """

    __slots__ = (
        "check",
        "column",
        "default",
        "default_factory",
        "foreign_key",
        "index",
        "kind",
        "max_length",
        "name",
        "nullable",
        "on_delete",
        "primary_key",
        "python_type",
        "table",
        "unique",
    )
    kind: str

    def __init__(
        self,
        name: str,
        column: str,
        python_type: type[Any],
        kind: str,
        *,
        nullable: bool = False,
        primary_key: bool = False,
        unique: bool = False,
        index: bool = False,
        max_length: int | None = None,
        default: object = None,
        default_factory: Callable[[], object] | None = None,
        check: Callable[[object], bool] | None = None,
    ) -> None:
        self.name = name  # the attribute on the model
        self.column = column  # the column in the table
        self.python_type = python_type
        self.kind = kind
        self.nullable = nullable
        self.primary_key = primary_key
        self.unique = unique
        self.index = index
        self.max_length = max_length
        self.default = default
        self.default_factory = default_factory
        self.check = check
        self.table: Table | None = None
        self.foreign_key: Column[Any] | None = None  # the column this one references
        self.on_delete: str | None = None  # ON DELETE action of that reference

    def validate(self, value: object) -> None:
        """Raise ``QueryError`` unless ``value`` (or None) fits this column's Python type."""
        if value is not None and self.check is not None and not self.check(value):
            raise QueryError(
                f"{self.qualname} is {self.python_type.__name__}; got {type(value).__name__} "
                f"{value!r}"
            )

    def _bind(self, value: object) -> Node:
        if isinstance(value, Node):
            return value
        self.validate(value)
        return Param(value, self.kind)

    @property
    def qualname(self) -> str:
        owner = self.table.model.__name__ if self.table is not None else "?"
        return f"{owner}.{self.name}"

    def render(self, ctx: Context) -> None:
        quote = ctx.dialect.quote
        if ctx.qualify and self.table is not None:
            ctx.parts.append(f"{quote(self.table.name)}.{quote(self.column)}")
        else:
            ctx.parts.append(quote(self.column))

    def __repr__(self) -> str:
        return f"Column({self.qualname})"


def col(attribute: T) -> Column[T]:
    """Return ``attribute`` typed as the ``Column`` it is at run time.

    To a type checker ``User.age`` on the class is an ``int`` (that is what the model says an
    instance holds), so ``User.age.desc()`` would not type-check; ``col(User.age).desc()`` does,
    and ``col(User.age) > 18`` is typed as a condition.
    """
    if not isinstance(attribute, Column):
        raise QueryError(f"col() takes a model column such as User.age; got {attribute!r}")
    return cast(Column[T], attribute)


class Param(Expr):
    """A bound value, converted for ``kind`` when it renders."""

    __slots__ = ("kind", "value")

    def __init__(self, value: object, kind: str | None = None) -> None:
        self.value = value
        self.kind = kind

    def render(self, ctx: Context) -> None:
        ctx.param(self.value, self.kind)


class Raw(Expr):
    """SQL text with ``?`` placeholders, for ``where("age > ?", 18)``.

    ``?`` outside quoted strings become the dialect's placeholder; ``%`` is escaped for the
    drivers that use ``%s``. The text is the caller's: never build it from user input.
    """

    __slots__ = ("args", "text")

    def __init__(self, text: str, args: Sequence[object] = ()) -> None:
        self.text = text
        self.args = tuple(args)
        expected = _count_marks(text)
        if expected != len(self.args):
            raise QueryError(
                f"{text!r} has {expected} '?' placeholders; got {len(self.args)} values"
            )

    def render(self, ctx: Context) -> None:
        placeholder = ctx.dialect.placeholder
        escape = placeholder == "%s"
        args = iter(self.args)
        quote: str | None = None
        out = ctx.parts
        for ch in self.text:
            if quote is not None:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch == "?":
                ctx.param(next(args))
                continue
            out.append("%%" if escape and ch == "%" else ch)


def _count_marks(text: str) -> int:
    count, quote = 0, None
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            count += 1
    return count


class Binary(Expr):
    __slots__ = ("kind", "left", "op", "parens", "right")

    def __init__(self, left: Node, op: str, right: Node, *, parens: bool = False) -> None:
        self.left = left
        self.op = op
        self.right = right
        self.parens = parens
        self.kind = getattr(left, "kind", None) if parens else None

    def render(self, ctx: Context) -> None:
        if self.parens:
            ctx.parts.append("(")
        self.left.render(ctx)
        ctx.parts.append(self.op)
        self.right.render(ctx)
        if self.parens:
            ctx.parts.append(")")


class Postfix(Expr):
    __slots__ = ("op", "operand")

    def __init__(self, operand: Node, op: str) -> None:
        self.operand = operand
        self.op = op

    def render(self, ctx: Context) -> None:
        self.operand.render(ctx)
        ctx.parts.append(self.op)


class In(Expr):
    __slots__ = ("items", "op", "operand")

    def __init__(self, operand: Node, items: list[Node], op: str) -> None:
        self.operand = operand
        self.items = items
        self.op = op

    def render(self, ctx: Context) -> None:
        self.operand.render(ctx)
        ctx.parts.append(self.op)
        ctx.join(self.items)
        ctx.parts.append(")")


class Between(Expr):
    __slots__ = ("high", "low", "operand")

    def __init__(self, operand: Node, low: Node, high: Node) -> None:
        self.operand = operand
        self.low = low
        self.high = high

    def render(self, ctx: Context) -> None:
        self.operand.render(ctx)
        ctx.parts.append(" BETWEEN ")
        self.low.render(ctx)
        ctx.parts.append(" AND ")
        self.high.render(ctx)


class Junction(Expr):
    """``a AND b AND c`` or ``a OR b``, parenthesised so it nests safely."""

    __slots__ = ("op", "terms")

    def __init__(self, op: str, terms: Sequence[Node]) -> None:
        self.op = op
        self.terms = terms

    def render(self, ctx: Context) -> None:
        if len(self.terms) == 1:
            self.terms[0].render(ctx)
            return
        ctx.parts.append("(")
        ctx.join(self.terms, self.op)
        ctx.parts.append(")")


class Not(Expr):
    __slots__ = ("term",)

    def __init__(self, term: Node) -> None:
        self.term = term

    def render(self, ctx: Context) -> None:
        ctx.parts.append("NOT (")
        self.term.render(ctx)
        ctx.parts.append(")")


def condition(term: object) -> Node:
    """Accept a condition node; refuse a plain bool (a comparison Python already evaluated)."""
    if isinstance(term, Node):
        return term
    raise QueryError(
        f"a condition must be an expression such as User.age > 18; got {type(term).__name__} "
        f"{term!r} (a Python comparison evaluated before the query saw it?)"
    )


def and_(*terms: Expr | bool) -> Expr:
    """All of ``terms`` (at least one)."""
    if not terms:
        raise QueryError("and_() needs at least one condition")
    return Junction(" AND ", [condition(t) for t in terms])


def or_(*terms: Expr | bool) -> Expr:
    """Any of ``terms`` (at least one)."""
    if not terms:
        raise QueryError("or_() needs at least one condition")
    return Junction(" OR ", [condition(t) for t in terms])


def not_(term: Expr | bool) -> Expr:
    """The negation of ``term``."""
    return Not(condition(term))


class Ordering(Node):
    __slots__ = ("direction", "expr")

    def __init__(self, expr: Node, direction: str) -> None:
        self.expr = expr
        self.direction = direction

    def render(self, ctx: Context) -> None:
        self.expr.render(ctx)
        ctx.parts.append(self.direction)


class Func(Expr):
    """A SQL function call: ``func.count()`` is ``COUNT(*)``, ``func.max(User.age)``."""

    __slots__ = ("args", "name")

    def __init__(self, name: str, args: Sequence[Node]) -> None:
        self.name = name
        self.args = args

    def render(self, ctx: Context) -> None:
        ctx.parts.append(self.name)
        ctx.parts.append("(")
        if self.args:
            ctx.join(self.args)
        elif self.name == "COUNT":
            ctx.parts.append("*")
        ctx.parts.append(")")


class _FuncFactory:
    """``func.name(*args)`` builds ``NAME(args)``; the name must be a plain identifier."""

    def __getattr__(self, name: str) -> Callable[..., Func]:
        if not IDENT.match(name) or name.startswith("_"):
            raise AttributeError(name)
        upper = name.upper()

        def build(*args: object) -> Func:
            return Func(upper, [a if isinstance(a, Node) else Param(a) for a in args])

        return build


func = _FuncFactory()
