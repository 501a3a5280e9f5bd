"""Engine: one database, its dialect and a pool of connections.

::

    engine = Engine("sqlite:///app.db")          # or sqlite://:memory:
    engine = Engine("postgresql://user@host:5432/db")
    engine = Engine("mysql://user:pw@host:3306/db")
    with engine.session() as s: ...
    with engine.transaction() as s: ...          # commits, or rolls back and re-raises

``pool_size`` (keyword or ``?pool_size=N`` in the URL) is how many idle connections the engine
keeps for reuse; more may be open at once while sessions hold them. An in-memory SQLite database
lives in one connection, so all sessions of such an engine share it, one thread at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from gee.orm.dialects import Dialect, dialect_for
from gee.orm.dialects.base import Connection
from gee.orm.errors import ConfigError, OperationalError

if TYPE_CHECKING:
    from gee.orm.schema import Model
    from gee.orm.session import Session

__all__ = ["URL", "Engine", "Pool"]


@dataclass(frozen=True)
class URL:
    """The parts of an engine URL. ``options`` are the query parameters gee does not use."""

    scheme: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @classmethod
    def parse(cls, url: str) -> tuple[URL, dict[str, str]]:
        """Split ``url``; return it and gee's own options (``pool_size``)."""
        if not isinstance(url, str) or "://" not in url:
            raise ConfigError(
                f"bad database URL {url!r}; want e.g. sqlite:///app.db, sqlite://:memory:, "
                "postgresql://user@host:5432/db or mysql://user:pw@host:3306/db"
            )
        scheme, rest = url.split("://", 1)
        scheme = scheme.lower()
        query: dict[str, str] = {}
        if "?" in rest:
            rest, qs = rest.split("?", 1)
            query = dict(parse_qsl(qs, keep_blank_values=True))
        own = {k: query.pop(k) for k in ("pool_size",) if k in query}
        if scheme == "sqlite":
            # sqlite:///relative.db, sqlite:////absolute.db, sqlite://:memory:, sqlite://
            path = rest[1:] if rest.startswith("/") else rest
            if path in ("", ":memory:"):
                path = ":memory:"
            return cls(scheme, database=path, options=query, raw=url), own
        parts = urlsplit(f"{scheme}://{rest}")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"bad port in database URL {url!r}") from None
        database = unquote(parts.path.lstrip("/")) or None
        return (
            cls(
                scheme,
                host=parts.hostname,
                port=port,
                user=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                database=database,
                options=query,
                raw=url,
            ),
            own,
        )

    def driver_url(self) -> str:
        """The URL for a driver that takes one (psycopg), with gee's own options removed."""
        base = self.raw.split("?", 1)[0]
        if base.startswith("postgres://"):
            base = "postgresql://" + base[len("postgres://") :]
        return base

    def __repr__(self) -> str:  # never show the password
        auth = f"{self.user}:***@" if self.password else (f"{self.user}@" if self.user else "")
        where = f"{self.host}:{self.port}" if self.host else ""
        return f"URL('{self.scheme}://{auth}{where}/{self.database or ''}')"


class Pool:
    """Idle DB-API connections kept for reuse, at most ``size`` of them (zero: keep none).

    ``acquire`` hands out an idle connection or opens a new one; ``release`` keeps it if there
    is room and the pool is open, else closes it.
    """

    def __init__(self, dialect: Dialect, url: URL, size: int) -> None:
        self.dialect = dialect
        self.url = url
        self.size = size
        self._lock = threading.Lock()  # guards _idle and _closed
        self._idle: list[Connection] = []
        self._closed = False

    def acquire(self) -> Connection:
        with self._lock:
            if self._closed:
                raise ConfigError("the engine is closed")
            if self._idle:
                return self._idle.pop()
        return connect(self.dialect, self.url)

    def release(self, conn: Connection, *, broken: bool = False) -> None:
        with self._lock:
            if not broken and not self._closed and len(self._idle) < self.size:
                self._idle.append(conn)
                return
        _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


class SharedPool(Pool):
    """One connection for every session (in-memory SQLite), lent to one thread at a time."""

    def __init__(self, dialect: Dialect, url: URL) -> None:
        super().__init__(dialect, url, 1)
        self._conn: Connection | None = None
        self._turn = threading.RLock()  # held by the thread whose session has the connection

    def acquire(self) -> Connection:
        self._turn.acquire()
        with self._lock:
            if self._closed:
                self._turn.release()
                raise ConfigError("the engine is closed")
            if self._conn is None:
                try:
                    self._conn = connect(self.dialect, self.url)
                except BaseException:
                    self._turn.release()
                    raise
            return self._conn

    def release(self, conn: Connection, *, broken: bool = False) -> None:
        self._turn.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            _close_quietly(conn)


def connect(dialect: Dialect, url: URL) -> Connection:
    """A new connection; a driver's failure to connect becomes ``OperationalError``."""
    try:
        return dialect.connect(url)
    except dialect.error as exc:
        raise OperationalError(f"cannot connect to {url!r}: {exc}") from exc


def _close_quietly(conn: Connection) -> None:
    try:
        conn.close()
    except Exception:  # a dead connection may fail to close; it is gone either way
        pass


class Engine:
    """A database reached through ``url``; see the module docstring. Close it when done."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.url, own = URL.parse(url)
        self.dialect = dialect_for(self.url.scheme)
        size = pool_size if pool_size is not None else int(own.get("pool_size", "5"))
        if size < 0:
            raise ConfigError(f"pool_size must be >= 0; got {size}")
        if self.url.scheme == "sqlite" and self.url.database == ":memory:":
            self.pool: Pool = SharedPool(self.dialect, self.url)
        else:
            self.pool = Pool(self.dialect, self.url, size)

    def session(self) -> Session:
        """A new session holding one pooled connection until it is closed."""
        from gee.orm.session import Session

        return Session(self)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed at the end, rolled back on any exception."""
        with self.session() as s, s.transaction():
            yield s

    def create_table(self, *models: type[Model], exists_ok: bool = False) -> None:
        with self.session() as s:
            s.create_table(*models, exists_ok=exists_ok)

    def drop_table(self, *models: type[Model], missing_ok: bool = False) -> None:
        with self.session() as s:
            s.drop_table(*models, missing_ok=missing_ok)

    def has_table(self, model: type[Model] | str) -> bool:
        with self.session() as s:
            return s.has_table(model)

    def migrate(
        self, *models: type[Model], allow_destructive: bool = False, dry_run: bool = False
    ) -> list[str]:
        """Bring the tables of ``models`` to match them; see ``gee.orm.migrate``."""
        from gee.orm.migrate import migrate

        return migrate(self, models, allow_destructive=allow_destructive, dry_run=dry_run)

    def raw(self, sql: str, *args: object) -> list[Any]:
        with self.session() as s:
            return s.raw(sql, *args)

    def close(self) -> None:
        """Close the idle connections; those in use close when their sessions end."""
        self.pool.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Engine({self.url!r})"
