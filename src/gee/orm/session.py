"""Session: one connection's worth of work — queries, writes, DDL and transactions.

Every statement goes through ``_fetch``, ``_select``, ``_execute`` or ``_executemany``, the one
place where driver exceptions are translated into ``gee.orm.errors`` and statements are logged
(at DEBUG on the ``gee.orm`` logger; nothing is formatted when that level is off).

Transactions: outside one, each statement commits on its own (the connection is in autocommit
mode). ``begin()/commit()/rollback()`` drive one explicitly; ``with s.transaction():`` commits
at the end or rolls back on any exception and re-raises; a ``transaction()`` inside another is a
SAVEPOINT, so an inner failure undoes only the inner block.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, overload

from gee.orm.clause import Column, Raw
from gee.orm.errors import OperationalError, QueryError
from gee.orm.hooks import (
    AFTER_DELETE,
    AFTER_INSERT,
    AFTER_UPDATE,
    BEFORE_DELETE,
    BEFORE_INSERT,
    BEFORE_UPDATE,
    run_hooks,
)
from gee.orm.mapping import key_params, one_loader, params_extractor, rows_extractor
from gee.orm.query import Query
from gee.orm.schema import Model, Table, table_of

if TYPE_CHECKING:
    from gee.orm.engine import Engine

__all__ = ["Session"]

log = logging.getLogger("gee.orm")
M = TypeVar("M", bound=Model)

_END = object()  # the end of an iterator, for next(it, _END)
_INSERT_HOOKS = frozenset((BEFORE_INSERT, AFTER_INSERT))


class Session:
    """Work on one pooled connection; close it (or use ``with``) to give the connection back.

    A session belongs to one thread at a time, like the DB-API connection it holds; give each
    thread its own session (the engine and its pool are shared safely).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._conn: Any = engine.pool.acquire()
        # What statements run on: the connection, or one cursor kept for the session where the
        # driver's cursors are reusable (``Dialect.cursor``); None once closed.
        self._cursor: Any = self.dialect.cursor(self._conn)
        self._depth = 0  # 0: no transaction; 1: BEGIN; n > 1: n - 1 savepoints inside it
        self._broken = False

    # ------------------------------------------------------------------ plumbing

    @property
    def closed(self) -> bool:
        return self._conn is None

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def _connection(self) -> Any:
        conn = self._conn
        if conn is None:
            raise QueryError("the session is closed; open a new one with engine.session()")
        return conn

    def _fetch(self, sql: str, params: Sequence[object]) -> list[Any]:
        """Run any statement; its rows, [] when it returns none."""
        return self._run(self.dialect.fetchall, sql, params)  # type: ignore[no-any-return]

    def _select(self, sql: str, params: Sequence[object]) -> list[Any]:
        """Run a statement known to return rows (SELECT, RETURNING): cheaper than ``_fetch``."""
        return self._run(self.dialect.select, sql, params)  # type: ignore[no-any-return]

    def _execute(self, sql: str, params: Sequence[object]) -> tuple[int, int | None]:
        return self._run(self.dialect.execute, sql, params)  # type: ignore[no-any-return]

    def _run(self, call: Any, sql: str, params: Sequence[object]) -> Any:
        cur = self._cursor
        if cur is None:
            self._connection()  # raises: closed
        try:
            if log.isEnabledFor(logging.DEBUG):
                start = time.perf_counter()
                result = call(cur, sql, params)
                log.debug("%.3f ms %s %r", (time.perf_counter() - start) * 1e3, sql, params)
                return result
            return call(cur, sql, params)
        except self.dialect.error as exc:
            raise self._translate(exc, sql, params) from exc

    def _executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run ``sql`` once per row of ``rows`` (a list, or an iterator the driver consumes)."""
        cur = self._cursor
        if cur is None:
            self._connection()  # raises: closed
        dialect = self.dialect
        try:
            if log.isEnabledFor(logging.DEBUG):
                start = time.perf_counter()
                count = dialect.executemany(cur, sql, rows)
                ms = (time.perf_counter() - start) * 1e3
                log.debug("%.3f ms executemany %s (%d rows)", ms, sql, count)
                return count
            return dialect.executemany(cur, sql, rows)
        except dialect.error as exc:
            raise self._translate(exc, sql, ()) from exc

    def _translate(self, exc: BaseException, sql: str, params: Sequence[object]) -> Exception:
        error = self.dialect.translate(exc, sql, params)
        if isinstance(error, OperationalError):
            self._broken = True  # never hand a possibly dead connection to the next session
        return error

    def _cached(self, key: tuple[object, ...], build: Any) -> Any:
        cache = self.dialect.cache
        found = cache.get(key)
        if found is None:
            found = cache[key] = build()
        return found

    # ------------------------------------------------------------------ queries

    def query(self, model: type[M]) -> Query[M]:
        """A query over ``model``'s table; see ``gee.orm.query.Query``."""
        self._connection()
        return Query(self, table_of(model))

    def get(self, model: type[M], key: object) -> M | None:
        """The row with primary key ``key`` (a tuple for a composite key), or None."""
        # One lookup finds everything prepared for the model; the statement returns one row.
        plan = self.dialect.cache.get(("get", model))
        if plan is None:
            plan = self._get_plan(model)
        sql, params, load_one, after_query = plan
        rows = self._select(sql, params(key))
        if not rows:
            return None
        obj: M = load_one(rows[0])
        if after_query:
            run_hooks("after_query", [obj], self)
        return obj

    def _get_plan(self, model: type[Model]) -> tuple[str, Any, Any, bool]:
        table = table_of(model)
        if not table.primary_key:
            raise QueryError(f"{model.__name__} has no primary key; use query().where()")
        plan = (
            self._by_key_sql(table, "SELECT"),
            key_params(self.dialect, table),
            one_loader(self.dialect, table),
            "after_query" in table.hooks,
        )
        self.dialect.cache[("get", model)] = plan
        return plan

    def _by_key_sql(self, table: Table, verb: str, columns: Sequence[Any] = ()) -> str:
        q = self.dialect.quote
        mark = self.dialect.placeholder
        where = " AND ".join(f"{q(c.column)} = {mark}" for c in table.primary_key)
        if verb == "SELECT":
            names = ", ".join(q(c.column) for c in table.columns)
            return f"SELECT {names} FROM {q(table.name)} WHERE {where}"
        if verb == "UPDATE":
            sets = ", ".join(f"{q(c.column)} = {mark}" for c in columns)
            return f"UPDATE {q(table.name)} SET {sets} WHERE {where}"
        return f"DELETE FROM {q(table.name)} WHERE {where}"

    def prefetch(
        self, parents: Sequence[Model], model: type[M], on: Any, *, chunk: int = 500
    ) -> dict[Any, list[M]]:
        """The ``model`` rows belonging to each of ``parents``, in one query per ``chunk`` parents.

        ``on`` is ``model``'s foreign-key column (``Post.user_id``); the result maps each parent's
        referenced value (its primary key) to its children, ``[]`` for none — one-to-many
        loading without a query per parent::

            posts = s.prefetch(users, Post, on=Post.user_id)
            for user in users:
                print(user.name, [p.title for p in posts[user.id]])
        """
        table = table_of(model)
        if not isinstance(on, Column) or on.table is not table:
            raise QueryError(f"prefetch(on=...) takes a column of {model.__name__}; got {on!r}")
        target = on.foreign_key
        attribute = target.name if target is not None else None
        result: dict[Any, list[M]] = {}
        for parent in parents:
            name = attribute
            if name is None:
                key = _table(parent).primary_key
                if len(key) != 1:
                    raise QueryError("prefetch needs parents with a one-column primary key")
                name = key[0].name
            value = parent.__dict__[name]
            if value is not None:
                result.setdefault(value, [])
        keys = list(result)
        order = table.primary_key or tuple(table.columns)
        for start in range(0, len(keys), chunk):
            query = self.query(model).where(on.in_(keys[start : start + chunk]))
            for child in query.order_by(*order).all():
                result[child.__dict__[on.name]].append(child)
        return result

    def raw(self, sql: str, *args: object) -> list[Any]:
        """Run ``sql`` with ``?`` placeholders bound to ``args``; return its rows as tuples."""
        text, params = Raw(sql, args).compile(self.dialect)
        return [tuple(r) for r in self._fetch(text, params)]

    # ------------------------------------------------------------------ writes

    def insert(self, *objects: Model) -> None:
        """Insert ``objects`` (several: all or none), filling generated primary keys."""
        if len(objects) == 1:
            self._insert_one(objects[0])
        elif self._depth == 0:
            with self.transaction():
                for obj in objects:
                    self._insert_one(obj)
        else:
            for obj in objects:
                self._insert_one(obj)

    def _insert_one(self, obj: Model) -> None:
        # The hot path of one-by-one inserts: one dict lookup finds everything prepared for the
        # class, then one extractor call and one driver call.
        plan = self.dialect.cache.get(obj.__class__)
        if plan is None:
            plan = self._insert_plan(obj)
        auto, hooks, with_key, without_key = plan
        if hooks and BEFORE_INSERT in hooks:
            obj.before_insert(self)  # type: ignore[attr-defined]
        # getattr/setattr rather than obj.__dict__, which would build a dict for a fresh instance
        # (see mapping.params_extractor).
        if auto is None or getattr(obj, auto) is not None:
            sql, extract = with_key
            self._execute(sql, extract(obj))
        else:
            sql, extract = without_key
            if self.dialect.returning:
                setattr(obj, auto, self._select(sql, extract(obj))[0][0])
            else:
                setattr(obj, auto, self._execute(sql, extract(obj))[1])
        if hooks and AFTER_INSERT in hooks:
            obj.after_insert(self)  # type: ignore[attr-defined]

    def _insert_plan(self, obj: Model) -> tuple[str | None, frozenset[str], Any, Any]:
        table = _table(obj)
        auto = table.auto
        plan = (
            auto.name if auto is not None else None,
            table.hooks,
            self._insert_sql(table, generate=False),
            self._insert_sql(table, generate=True) if auto is not None else None,
        )
        self.dialect.cache[obj.__class__] = plan
        return plan

    def _insert_sql(self, table: Table, generate: bool) -> tuple[str, Any]:
        columns = [c for c in table.columns if not (generate and c is table.auto)]
        sql = self.dialect.insert(table, columns, returning=generate)
        return sql, params_extractor(self.dialect, table, columns)

    @overload
    def insert_many(self, objects: Iterable[Model], /, *, batch_size: int | None = None) -> int: ...

    @overload
    def insert_many(
        self,
        model: type[Model],
        rows: Iterable[Sequence[Any]] | Iterable[Mapping[str, Any]],
        /,
        *,
        fields: Sequence[str] | None = None,
        batch_size: int | None = None,
    ) -> int: ...

    def insert_many(
        self,
        objects: Iterable[Model] | type[Model],
        rows: Iterable[Sequence[Any]] | Iterable[Mapping[str, Any]] | None = None,
        /,
        *,
        fields: Sequence[str] | None = None,
        batch_size: int | None = None,
    ) -> int:
        """Insert many rows with the driver's ``executemany``; return how many.

        ``insert_many(objects)`` takes model instances; ``insert_many(User, rows)`` takes plain
        rows and builds no objects: tuples of the values of ``fields`` (default: every field
        but the generated key, in declaration order), or dicts keyed by field name (default
        fields: the first dict's keys). Fields a row does not give take the model's default.
        Values are checked against the fields' types either way. A model with insert hooks
        gets objects built from the rows, so that its hooks run.

        Faster than ``insert`` for bulk loads, at a price: generated keys are not filled in.
        All rows are inserted or none. ``batch_size``: rows per ``executemany`` call (None:
        one call, the rows streamed to the driver, which batches as it needs: PyMySQL into
        multi-row INSERTs, psycopg into a pipeline).
        """
        if isinstance(objects, type):
            if rows is None:
                raise QueryError(f"insert_many({objects.__name__}, rows): the rows are missing")
            return self._insert_rows(objects, rows, fields, batch_size)
        if rows is not None or fields is not None:
            raise QueryError(
                "insert_many(objects) takes no rows or fields; see insert_many(Model, rows)"
            )
        total = 0
        groups = _groups(objects)
        with self.transaction():
            for (table, generate), group in groups.items():
                if BEFORE_INSERT in table.hooks:
                    run_hooks(BEFORE_INSERT, group, self)
                sql, extract = self._cached(
                    ("insert", table, generate, "many"),
                    lambda t=table, g=generate: self._insert_sql_many(t, g),
                )
                total += self._executemany_stream(sql, map(extract, group), batch_size)
                if AFTER_INSERT in table.hooks:
                    run_hooks(AFTER_INSERT, group, self)
        return total

    def _insert_rows(
        self,
        model: type[Model],
        rows: Iterable[Sequence[Any]] | Iterable[Mapping[str, Any]],
        fields: Sequence[str] | None,
        batch_size: int | None,
    ) -> int:
        table = table_of(model)
        it = iter(rows)
        first: Any = next(it, _END)
        if first is _END:
            return 0
        by_name = isinstance(first, Mapping)
        if fields is None:
            names = (
                tuple(first)
                if by_name
                else tuple(c.name for c in table.columns if c is not table.auto)
            )
        else:
            names = tuple(fields)
        key = ("insert rows", table, names, by_name)
        plan = self.dialect.cache.get(key)
        if plan is None:
            columns, extract = rows_extractor(self.dialect, table, names, by_name)
            plan = self.dialect.cache[key] = (
                self.dialect.insert(table, columns, returning=False),
                extract,
            )
        sql, extract = plan
        everything = chain((first,), it)
        if table.hooks & _INSERT_HOOKS:
            # Hooks take objects: build them (checked by their insert like any other).
            build = _object_builder(model, names, by_name, extract)
            return self.insert_many(list(map(build, everything)), batch_size=batch_size)
        with self.transaction():
            return self._executemany_stream(sql, map(extract, everything), batch_size)

    def _insert_sql_many(self, table: Table, generate: bool) -> tuple[str, Any]:
        columns = [c for c in table.columns if not (generate and c is table.auto)]
        return self.dialect.insert(table, columns, returning=False), params_extractor(
            self.dialect, table, columns
        )

    def _executemany_stream(
        self, sql: str, params: Iterator[Sequence[object]], batch_size: int | None
    ) -> int:
        """Send ``params`` (produced lazily) to ``sql`` in one executemany, or in ``batch_size``
        chunks; the number of rows inserted."""
        if batch_size is None:
            return self._executemany(sql, params)
        if batch_size < 1:
            raise QueryError(f"batch_size must be at least 1 or None; got {batch_size}")
        total = 0
        while chunk := list(islice(params, batch_size)):
            total += self._executemany(sql, chunk)
        return total

    def upsert(
        self,
        *objects: Model,
        on: Sequence[str] | None = None,
        update: Sequence[str] | None = None,
    ) -> None:
        """Insert each object, or update the row it collides with.

        ``on``: the fields of the unique key that decides a collision (default: the primary
        key; MySQL ignores it and uses whichever unique key collides). ``update``: the fields to
        overwrite on a collision (default: every other inserted field; empty: keep the row).
        Generated keys are filled in either way.
        """
        if len(objects) > 1 and self._depth == 0:
            with self.transaction():
                self._upsert_each(objects, on, update)
        else:
            self._upsert_each(objects, on, update)

    def _upsert_each(
        self, objects: Iterable[Model], on: Sequence[str] | None, update: Sequence[str] | None
    ) -> None:
        dialect = self.dialect
        for obj in objects:
            table = _table(obj)
            auto = table.auto
            generate = auto is not None and obj.__dict__[auto.name] is None
            key = (
                "upsert",
                table,
                generate,
                tuple(on or ()),
                None if update is None else tuple(update),
            )
            sql, extract = self._cached(
                key, lambda t=table, g=generate: self._upsert_sql(t, g, on, update)
            )
            if BEFORE_INSERT in table.hooks:
                obj.before_insert(self)  # type: ignore[attr-defined]
            params = extract(obj)
            if generate and dialect.name != "mysql":
                rows = self._select(sql, params)
                if rows:
                    obj.__dict__[auto.name] = rows[0][0]  # type: ignore[union-attr]
            else:
                _, rowid = self._execute(sql, params)
                if generate and rowid:
                    obj.__dict__[auto.name] = rowid  # type: ignore[union-attr]
            if AFTER_INSERT in table.hooks:
                obj.after_insert(self)  # type: ignore[attr-defined]

    def _upsert_sql(
        self, table: Table, generate: bool, on: Sequence[str] | None, update: Sequence[str] | None
    ) -> tuple[str, Any]:
        columns = [c for c in table.columns if not (generate and c is table.auto)]
        if on is None:
            if generate or not table.primary_key:
                raise QueryError(
                    f"upsert of {table.model.__name__} without its primary key needs on=(fields "
                    "of a unique key)"
                )
            conflict = list(table.primary_key)
        else:
            conflict = [table.column(name) for name in on]
        if update is None:
            skip = {id(c) for c in conflict}
            updated = [c for c in columns if id(c) not in skip and not c.primary_key]
        else:
            updated = [table.column(name) for name in update]
        sql = self.dialect.upsert(table, columns, conflict, updated, returning=generate)
        return sql, params_extractor(self.dialect, table, columns)

    def update(self, obj: Model) -> int:
        """Write every field of ``obj`` to its row, found by primary key; return rows matched."""
        # One lookup finds everything prepared for the class: SQL, extractor, key reader, hooks.
        plan = self.dialect.cache.get(("update", obj.__class__))
        if plan is None:
            plan = self._update_plan(obj)
        sql, extract, key_of, hooks = plan
        key_values = key_of(obj)
        if hooks and BEFORE_UPDATE in hooks:
            obj.before_update(self)  # type: ignore[attr-defined]
        if sql is None:
            raise QueryError(f"{obj.__class__.__name__} has only key fields; nothing to update")
        count = self._execute(sql, extract(obj) + key_values)[0]
        if hooks and AFTER_UPDATE in hooks:
            obj.after_update(self)  # type: ignore[attr-defined]
        return count

    def _update_plan(self, obj: Model) -> tuple[str | None, Any, Any, frozenset[str]]:
        table = _table(obj)
        key_of = self._key_reader(table)
        others = [c for c in table.columns if not c.primary_key]
        plan = (
            self._by_key_sql(table, "UPDATE", others) if others else None,  # None: update refuses
            params_extractor(self.dialect, table, others),
            key_of,
            table.hooks,
        )
        self.dialect.cache[("update", obj.__class__)] = plan
        return plan

    def delete(self, obj: Model) -> int:
        """Delete ``obj``'s row, found by primary key; return rows deleted."""
        table = _table(obj)
        key_values = self._key_of(obj, table)
        if BEFORE_DELETE in table.hooks:
            obj.before_delete(self)  # type: ignore[attr-defined]
        sql = self._cached(("delete", table), lambda: self._by_key_sql(table, "DELETE"))
        count = self._execute(sql, key_values)[0]
        if AFTER_DELETE in table.hooks:
            obj.after_delete(self)  # type: ignore[attr-defined]
        return count

    def _key_of(self, obj: Model, table: Table) -> tuple[object, ...]:
        return self._key_reader(table)(obj)  # type: ignore[no-any-return]

    def _key_reader(self, table: Table) -> Any:
        """A function returning the written primary-key values of an instance of ``table``.

        Raises ``QueryError`` when the table has no key, or (the function) when a key field is
        None. Cached per table: ``update`` and ``delete`` call it once per object.
        """
        if not table.primary_key:
            raise QueryError(f"{table.model.__name__} has no primary key; use query().update()")
        found = self.dialect.cache.get(("key", table))
        if found is not None:
            return found
        model = table.model.__name__
        columns = [(c.name, self.dialect.writer(c.kind)) for c in table.primary_key]
        if len(columns) == 1:
            [(name, write)] = columns

            def key_of_one(obj: Model) -> tuple[object, ...]:  # the usual key, without a loop
                value = obj.__dict__[name]
                if value is None:
                    raise QueryError(f"{model}.{name} (primary key) is None")
                return (value,) if write is None else (write(value),)

            self.dialect.cache[("key", table)] = key_of_one
            return key_of_one

        def key_of(obj: Model) -> tuple[object, ...]:
            values = obj.__dict__
            out = []
            for name, write in columns:
                value = values[name]
                if value is None:
                    raise QueryError(f"{model}.{name} (primary key) is None")
                out.append(value if write is None else write(value))
            return tuple(out)

        self.dialect.cache[("key", table)] = key_of
        return key_of

    # ------------------------------------------------------------------ schema

    def create_table(self, *models: type[Model], exists_ok: bool = False) -> None:
        """Create each model's table and indexes (all or none where DDL is transactional)."""
        statements = []
        for model in models:
            table = table_of(model)
            if exists_ok and self.has_table(model):
                continue
            statements += self.dialect.create_table(table)
        self._ddl(statements)

    def drop_table(self, *models: type[Model] | str, missing_ok: bool = False) -> None:
        names = [m if isinstance(m, str) else table_of(m).name for m in models]
        self._ddl([self.dialect.drop_table(name, if_exists=missing_ok) for name in names])

    def _ddl(self, statements: Sequence[str]) -> None:
        """Run DDL: in one transaction where the database allows it.

        MySQL commits implicitly before and after each DDL statement. Inside a ``transaction()``
        block gee then starts a new transaction, so the rest of the block is still atomic; inside
        a nested block the savepoints would be gone, so DDL is refused there.
        """
        if self.dialect.transactional_ddl:
            with self.transaction():
                for statement in statements:
                    self._execute(statement, ())
            return
        if self._depth > 1:
            raise QueryError(
                f"{self.dialect.name} commits DDL implicitly; run it outside nested transactions"
            )
        for statement in statements:
            self._execute(statement, ())
        if self._depth == 1:
            self._execute("BEGIN", ())

    def has_table(self, model: type[Model] | str) -> bool:
        name = model if isinstance(model, str) else table_of(model).name
        sql, params = self.dialect.has_table(name)
        return bool(self._select(sql, params))

    # ------------------------------------------------------------------ transactions

    def begin(self) -> None:
        """Start a transaction; ``commit()`` or ``rollback()`` ends it."""
        if self._depth:
            raise QueryError("a transaction is already open; nest with transaction()")
        self._execute("BEGIN", ())
        self._depth = 1

    def commit(self) -> None:
        if self._depth != 1:
            raise QueryError(
                _no_tx("commit") if not self._depth else "commit() inside a nested block"
            )
        self._depth = 0
        self._execute("COMMIT", ())

    def rollback(self) -> None:
        if self._depth != 1:
            raise QueryError(
                _no_tx("rollback") if not self._depth else "rollback() inside a nested block"
            )
        self._depth = 0
        self._execute("ROLLBACK", ())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction, or a SAVEPOINT inside one; rolled back on any exception."""
        if self._depth == 0:
            self.begin()
            try:
                yield self
            except BaseException:
                if self._depth:
                    self._quiet_rollback()
                raise
            if self._depth:
                self.commit()
            return
        name = f"gee_sp_{self._depth}"
        self._execute(f"SAVEPOINT {name}", ())
        self._depth += 1
        depth = self._depth
        try:
            yield self
        except BaseException:
            if self._depth == depth:
                self._depth -= 1
                if not self._broken:
                    self._execute(f"ROLLBACK TO SAVEPOINT {name}", ())
                    self._execute(f"RELEASE SAVEPOINT {name}", ())
            raise
        if self._depth == depth:
            self._depth -= 1
            self._execute(f"RELEASE SAVEPOINT {name}", ())

    def _quiet_rollback(self) -> None:
        self._depth = 0
        try:
            self._execute("ROLLBACK", ())
        except Exception:  # the connection may be dead: the server rolls back on its own
            self._broken = True

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Roll back an open transaction and return the connection to the pool."""
        conn = self._conn
        if conn is None:
            return
        if self._depth:
            self._quiet_rollback()
        self._conn = self._cursor = None
        self.engine.pool.release(conn, broken=self._broken)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else f"depth={self._depth}"
        return f"<Session {self.dialect.name} {state}>"


def _groups(objects: Iterable[Model]) -> dict[tuple[Table, bool], list[Model]]:
    """``objects`` by table and by "is its generated key missing", in order of appearance.

    A bulk load is nearly always objects of one class, all with or all without their key: that
    case is recognised with C-speed passes (``map``, ``set``, ``list.count``) instead of a Python
    loop per object.
    """
    objects = list(objects)
    if objects and len(set(map(type, objects))) == 1:
        table = _table(objects[0])
        auto = table.auto
        if auto is None:
            return {(table, False): objects}
        missing = list(map(attrgetter(auto.name), objects)).count(None)
        if missing in (0, len(objects)):
            return {(table, missing > 0): objects}
    groups: dict[tuple[Table, bool], list[Model]] = {}
    for obj in objects:
        table = _table(obj)
        auto = table.auto
        generate = auto is not None and obj.__dict__[auto.name] is None
        groups.setdefault((table, generate), []).append(obj)
    return groups


def _object_builder(
    model: type[Model], names: Sequence[str], by_name: bool, extract: Callable[[Any], Any]
) -> Callable[[Any], Model]:
    """A function building a ``model`` instance from one row of ``insert_many(model, rows)``;
    ``extract`` checks the row's shape first."""

    def build(row: Any) -> Model:
        extract(row)
        if by_name:
            return model(**row)
        return model(**dict(zip(names, row, strict=True)))

    return build


def _table(obj: object) -> Table:
    table = getattr(type(obj), "__table__", None)
    if table is None or table.model is not type(obj):
        raise QueryError(f"{obj!r} is not an instance of a gee.orm Model with a table")
    return table  # type: ignore[no-any-return]


def _no_tx(what: str) -> str:
    return f"{what}() without a transaction; call begin() first"
