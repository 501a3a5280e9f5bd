"""Dialects: one class per database, chosen by the engine URL's scheme."""

from __future__ import annotations

from gee.orm.dialects.base import Dialect
from gee.orm.dialects.mysql import MySQLDialect
from gee.orm.dialects.postgresql import PostgreSQLDialect
from gee.orm.dialects.sqlite import SQLiteDialect
from gee.orm.errors import ConfigError

__all__ = [
    "DIALECTS",
    "Dialect",
    "MySQLDialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "dialect_for",
]

# URL scheme -> dialect class
DIALECTS: dict[str, type[Dialect]] = {
    "sqlite": SQLiteDialect,
    "postgresql": PostgreSQLDialect,
    "postgres": PostgreSQLDialect,
    "mysql": MySQLDialect,
    "mariadb": MySQLDialect,
}


def dialect_for(scheme: str) -> Dialect:
    """A new dialect for URL scheme ``scheme``; ``ConfigError`` listing the known ones if none."""
    try:
        return DIALECTS[scheme]()
    except KeyError:
        known = ", ".join(f"{s}://" for s in DIALECTS)
        raise ConfigError(f"unknown database scheme {scheme!r}; use one of {known}") from None
