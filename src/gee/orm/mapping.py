"""Rows to objects and objects to parameters, as functions generated once per model and dialect.

The generated loader unpacks each row into local names and sets them on a new instance without
calling ``__init__``; only the columns whose dialect needs
a conversion (a UUID stored as text, a bool stored as an int) pay for a call. The generated
parameter extractor reads the attributes, checks each value's type (so a ``str`` in an ``int``
field fails before any SQL is sent) and applies the dialect's writers. Both are cached on the
dialect, keyed by table and shape, so a statement's Python cost is one call per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

from gee.orm.clause import Column
from gee.orm.errors import QueryError

if TYPE_CHECKING:
    from gee.orm.dialects.base import Dialect
    from gee.orm.schema import Table

__all__ = [
    "key_params",
    "loader",
    "one_loader",
    "params_extractor",
    "row_converter",
    "rows_extractor",
]

Loader = Callable[[Sequence[Sequence[Any]]], list[Any]]
Extractor = Callable[[Any], tuple[Any, ...]]


def loader(dialect: Dialect, table: Table) -> Loader:
    """A function turning a list of full rows of ``table`` into model instances."""
    return _generated(dialect, table, one=False)


def one_loader(dialect: Dialect, table: Table) -> Callable[[Sequence[Any]], Any]:
    """A function turning one full row of ``table`` into a model instance.

    For lookups by primary key: it saves building a list around the row and another around the
    instance, a measurable share of a ``get``.
    """
    return _generated(dialect, table, one=True)


def _generated(dialect: Dialect, table: Table, one: bool) -> Callable[[Any], Any]:
    key = ("load", table, one)
    found = dialect.cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": table.model, "repeat": repeat}
    names, sets = [], []
    for i, c in enumerate(table.columns):
        names.append(f"v{i}")
        read = dialect.reader(c)
        if read is None:
            sets.append(f"o.{c.name} = v{i}")
        else:
            namespace[f"r{i}"] = read
            sets.append(f"o.{c.name} = None if v{i} is None else r{i}(v{i})")
    # Attribute assignments on a fresh instance keep CPython's key-sharing instance dicts;
    # assigning a whole new __dict__ measured ~1.5x slower here.
    if one:
        body = "\n".join(f"    {line}" for line in sets)
        source = (
            "def load_one(row):\n"
            f"    {', '.join(names)}, = row\n"
            "    o = new(cls)\n"
            f"{body}\n"
            "    return o\n"
        )
    else:
        # The instances are made first, at C speed (map over repeat), then filled: no call to
        # new() and no out.append() per row in the Python loop (~20% of the loader's time).
        body = "\n".join(f"        {line}" for line in sets)
        source = (
            "def load(rows):\n"
            "    out = list(map(new, repeat(cls, len(rows))))\n"
            f"    for o, ({', '.join(names)},) in zip(out, rows):\n"
            f"{body}\n"
            "    return out\n"
        )
    exec(source, namespace)
    function: Callable[[Any], Any] = namespace["load_one" if one else "load"]
    # CPython 3.11+ shares one key table among a class's instances, and each new instance
    # shrinks the room left in it for new keys. ``load`` makes all its instances before it
    # sets an attribute: were the keys not in the table by then, every instance would fall
    # back to a dict of its own (measured ~2x slower). One instance with every field set, in
    # the loader's order, puts them there first.
    warm = object.__new__(table.model)
    for c in table.columns:
        setattr(warm, c.name, None)
    dialect.cache[key] = function
    return function


def row_converter(
    dialect: Dialect, readers: Sequence[Callable[[Any], Any] | None]
) -> Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]] | None:
    """A function converting selected tuples with ``readers``; None when none is needed."""
    if all(r is None for r in readers):
        return None
    namespace: dict[str, Any] = {}
    names, items = [], []
    for i, read in enumerate(readers):
        names.append(f"v{i}")
        if read is None:
            items.append(f"v{i}")
        else:
            namespace[f"r{i}"] = read
            items.append(f"None if v{i} is None else r{i}(v{i})")
    source = (
        f"def convert(rows):\n    return [({', '.join(items)},) for {', '.join(names)}, in rows]\n"
    )
    exec(source, namespace)
    return namespace["convert"]  # type: ignore[no-any-return]


def params_extractor(dialect: Dialect, table: Table, columns: Sequence[Column[Any]]) -> Extractor:
    """A function returning the bound values of ``columns`` from an instance, checked.

    A ``None`` in a NOT NULL column, or a value of the wrong type, raises ``QueryError`` naming
    the field before any SQL is sent.
    """
    key = ("params", table, tuple(c.name for c in columns))
    found = dialect.cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    namespace: dict[str, Any] = {"bad": _bad, "cols": list(columns)}
    # Plain attribute reads, not o.__dict__[name]: CPython 3.11+ keeps a fresh instance's values
    # inline and only builds a dict object when __dict__ is asked for (a dict per object: 64
    # bytes, and time, and more for the garbage collector to walk).
    lines = ["def extract(o):"]
    lines += [f"    v{i} = o.{c.name}" for i, c in enumerate(columns)]
    values = _checked_values(dialect, columns, namespace, lines)
    lines.append(f"    return ({', '.join(values)}{',' if values else ''})")
    exec("\n".join(lines) + "\n", namespace)
    function: Extractor = namespace["extract"]
    dialect.cache[key] = function
    return function


def _checked_values(
    dialect: Dialect, columns: Sequence[Column[Any]], namespace: dict[str, Any], lines: list[str]
) -> list[str]:
    """Append to ``lines`` the checks of locals ``v0, v1, ...`` (one per column); return the
    expressions of their written values. ``namespace`` needs ``bad`` and ``cols``."""
    values = []
    for i, c in enumerate(columns):
        namespace[f"c{i}"] = c.check
        namespace[f"t{i}"] = c.python_type
        # The exact declared type passes without a call; anything else asks the column's check.
        if c.nullable:
            test = f"v{i} is not None and v{i}.__class__ is not t{i} and not c{i}(v{i})"
        else:
            test = f"v{i}.__class__ is not t{i} and (v{i} is None or not c{i}(v{i}))"
        lines.append(f"    if {test}: bad(cols[{i}], v{i})")
        write = dialect.writer(c.kind)
        if write is None:
            values.append(f"v{i}")
        else:
            namespace[f"w{i}"] = write
            values.append(
                f"w{i}(v{i})" if not c.nullable else f"None if v{i} is None else w{i}(v{i})"
            )
    return values


def rows_extractor(
    dialect: Dialect, table: Table, fields: Sequence[str], by_name: bool
) -> tuple[list[Column[Any]], Extractor]:
    """For ``Session.insert_many(Model, rows)``: the columns to insert, and a function returning
    the bound values of one row (a tuple of ``fields``' values, or a dict keyed by them when
    ``by_name``), checked like ``params_extractor``'s.

    The columns are ``fields``, then every other column that has a default (its value is the
    model's default, ``default_factory`` called per row); the generated key is left to the
    database. A column missing from both, or a row of the wrong shape, raises ``QueryError``.
    A tuple row that needs no conversion is returned as it is: no new tuple per row.
    """
    from gee.orm.schema import MISSING

    model = table.model.__name__
    given = [table.column(name) for name in fields]
    if len({c.name for c in given}) != len(given):
        raise QueryError(f"insert_many({model}, fields={list(fields)!r}) names a field twice")
    named = {c.name for c in given}
    defaulted = []
    for c in table.columns:
        if c.name in named or c is table.auto:
            continue
        if c.default is MISSING and c.default_factory is None:
            raise QueryError(
                f"insert_many({model}, ...): rows give no {c.name} and it has no default; "
                f"pass fields= naming it (rows give {', '.join(fields) or 'nothing'})"
            )
        defaulted.append(c)
    columns = given + defaulted
    namespace: dict[str, Any] = {
        "bad": _bad,
        "cols": columns,
        "shape": _bad_shape(model, fields, by_name),
        "ok": _is_mapping if by_name else _is_sequence,
    }
    n = len(given)
    exact = "dict" if by_name else "tuple"
    lines = [
        "def extract(row):",
        f"    if row.__class__ is not {exact} and not ok(row) or len(row) != {n}: shape(row)",
    ]
    if by_name:
        lines.append("    try:")
        lines += [f"        v{i} = row[{c.name!r}]" for i, c in enumerate(given)]
        lines.append("    except KeyError:")
        lines.append("        shape(row)")
    elif n:
        lines.append(f"    {', '.join(f'v{i}' for i in range(n))}, = row")
    for j, c in enumerate(defaulted, n):
        if c.default_factory is not None:
            namespace[f"f{j}"] = c.default_factory
            lines.append(f"    v{j} = f{j}()")
        else:
            namespace[f"d{j}"] = c.default
            lines.append(f"    v{j} = d{j}")
    values = _checked_values(dialect, columns, namespace, lines)
    if not by_name and not defaulted and values == [f"v{i}" for i in range(n)]:
        lines.append(f"    return row if row.__class__ is tuple else ({', '.join(values)},)")
    else:
        lines.append(f"    return ({', '.join(values)}{',' if values else ''})")
    exec("\n".join(lines) + "\n", namespace)
    return columns, namespace["extract"]


def _is_mapping(row: object) -> bool:
    return isinstance(row, Mapping)


def _is_sequence(row: object) -> bool:
    return isinstance(row, Sequence) and not isinstance(row, (str, bytes))


def _bad_shape(model: str, fields: Sequence[str], by_name: bool) -> Callable[[Any], None]:
    def shape(row: object) -> None:
        if by_name:
            want = f"a dict with the keys {', '.join(fields)}"
        else:
            want = f"a tuple of {len(fields)} values ({', '.join(fields)})"
        raise QueryError(f"insert_many({model}, rows): each row must be {want}; got {row!r}")

    return shape


def key_params(dialect: Dialect, table: Table) -> Callable[[object], tuple[Any, ...]]:
    """A function turning a primary key as ``Session.get`` takes it into its bound values.

    ``key`` is the value of a one-column key, a tuple for a composite one; each value is checked
    against its column's type (``None`` passes: it matches no row) and written for the driver.
    """
    pk = table.primary_key
    name = table.model.__name__
    if len(pk) == 1:
        column = pk[0]
        exact = column.python_type
        write = dialect.writer(column.kind)

        # The common case, one call per lookup: a value of the exact declared type needs no check.
        def one(key: object) -> tuple[Any, ...]:
            if key.__class__ is not exact:
                column.validate(key)
            return (key if write is None or key is None else write(key),)

        return one
    writers = [dialect.writer(c.kind) for c in pk]

    def many(key: object) -> tuple[Any, ...]:
        if not isinstance(key, tuple) or len(key) != len(pk):
            raise QueryError(f"{name} has a {len(pk)}-column key; got {key!r}")
        values = []
        for column, write, value in zip(pk, writers, key, strict=True):
            column.validate(value)
            values.append(value if write is None or value is None else write(value))
        return tuple(values)

    return many


def _bad(column: Column[Any], value: object) -> None:
    if value is None:
        raise QueryError(f"{column.qualname} is NOT NULL; got None")
    raise QueryError(
        f"{column.qualname} is {column.python_type.__name__}; got {type(value).__name__} {value!r}"
    )
