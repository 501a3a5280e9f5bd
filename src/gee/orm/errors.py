"""Exceptions of gee.orm.

::

    GeeError
     └── ORMError                 anything gee.orm raises on purpose
          ├── ConfigError         a bad engine URL or option (set-up time)
          ├── SchemaError         a model gee cannot map, or a migration refused as destructive
          ├── QueryError          a query refused before any SQL is sent: unknown column, a value of
          │                       the wrong type, a missing primary key, a closed session
          ├── NoResultFound       ``one()`` found no row
          ├── MultipleResultsFound ``one()`` found more than one row
          └── DatabaseError       the driver raised; ``__cause__`` is its exception, ``sql`` and
               │                  ``params`` what was sent
               ├── IntegrityError    a constraint refused the change (unique, not null, foreign key)
               ├── OperationalError  the connection or the server failed (lost link, lock timeout)
               └── ProgrammingError  the server rejected the SQL (syntax, missing table, bad data)

Driver exceptions (sqlite3, psycopg, pymysql) are translated where they enter gee, by
``translate``; none of these names shadows a built-in.
"""

from __future__ import annotations

from collections.abc import Sequence

from gee.errors import GeeError

__all__ = [
    "ConfigError",
    "DatabaseError",
    "IntegrityError",
    "MultipleResultsFound",
    "NoResultFound",
    "ORMError",
    "OperationalError",
    "ProgrammingError",
    "QueryError",
    "SchemaError",
    "translate",
]

# How much of each bound value an error message shows: enough to recognise, never a whole blob.
MAX_VALUE_CHARS = 40


class ORMError(GeeError):
    """Base of every exception gee.orm raises on purpose."""


class ConfigError(ORMError, ValueError):
    """An engine URL or option gee cannot use; the message says what would work."""


class SchemaError(ORMError):
    """A model that cannot be mapped to a table, or a migration refused as destructive."""


class QueryError(ORMError, ValueError):
    """A statement refused before it reached the database (bad column, value or state)."""


class NoResultFound(ORMError, LookupError):
    """``Query.one()`` found no row."""


class MultipleResultsFound(ORMError, LookupError):
    """``Query.one()`` found more than one row."""


class DatabaseError(ORMError):
    """The database driver raised while running ``sql`` with ``params``.

    The driver's exception is ``__cause__``; the message repeats its text with the statement and
    the parameters (each value cut to ``MAX_VALUE_CHARS`` characters).
    """

    def __init__(self, message: str, sql: str = "", params: Sequence[object] = ()) -> None:
        self.sql = sql
        self.params = tuple(params)
        text = message
        if sql:
            text += f"\n  SQL: {sql}\n  params: {_short(self.params)}"
        super().__init__(text)


class IntegrityError(DatabaseError):
    """A constraint refused the change: unique, not null, check or foreign key."""


class OperationalError(DatabaseError):
    """The connection or the server failed: lost connection, lock timeout, server gone."""


class ProgrammingError(DatabaseError):
    """The server rejected the statement: syntax, unknown table or column, invalid data."""


def _short(params: Sequence[object]) -> str:
    shown = []
    for value in params[:20]:
        text = repr(value)
        if len(text) > MAX_VALUE_CHARS:
            text = text[: MAX_VALUE_CHARS - 3] + "..."
        shown.append(text)
    if len(params) > 20:
        shown.append(f"... ({len(params)} values)")
    return "[" + ", ".join(shown) + "]"


# DB-API 2 names every driver uses for its exception classes, most specific first. Matching on
# the names of the classes in the exception's MRO lets one table serve sqlite3, psycopg and
# pymysql without importing the optional drivers here.
_BY_NAME: tuple[tuple[str, type[DatabaseError]], ...] = (
    ("IntegrityError", IntegrityError),
    ("OperationalError", OperationalError),
    ("InterfaceError", OperationalError),
    ("ProgrammingError", ProgrammingError),
    ("DataError", ProgrammingError),
    ("NotSupportedError", ProgrammingError),
    ("InternalError", DatabaseError),
)


def translate(exc: BaseException, sql: str = "", params: Sequence[object] = ()) -> DatabaseError:
    """Return the gee exception for driver exception ``exc`` (raise it ``from exc``)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for name, error in _BY_NAME:
        if name in names:
            return error(f"{type(exc).__name__}: {exc}", sql, params)
    return DatabaseError(f"{type(exc).__name__}: {exc}", sql, params)
