"""What every library under measurement implements: the five operations on ``users``.

A subject works on the table ``users(id, name, age, email)`` that the benchmark has just created
(and, for the read and update operations, filled). Each method is one timed operation, written
the way the library's documentation recommends for it; ``load`` is the untimed set-up of
``update_each``. Objects handed back must have ``id``, ``name``, ``age`` and ``email`` attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["Database", "RowData", "Subject", "UserRow"]

# (name, age, email): one user as the benchmark generates it, before it has an id.
RowData = tuple[str, int, str]


@dataclass(frozen=True)
class Database:
    """Where the subjects connect: a SQLite file or a PostgreSQL server."""

    kind: Literal["sqlite", "postgresql"]
    label: str
    path: Path | None = None  # the SQLite file
    dsn: str | None = None  # postgresql://user@host:port/db

    @property
    def url(self) -> str:
        """The database as a URL (``sqlite:////abs/path`` or the PostgreSQL DSN)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        assert self.dsn is not None
        return self.dsn


@dataclass
class UserRow:
    """What raw DB-API code builds from a row: a plain dataclass."""

    id: int
    name: str
    age: int
    email: str | None


class Subject:
    """One library on one database; opened once, used for every operation, then closed."""

    name = ""

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        """Insert the rows one statement each, in one transaction; return the generated ids."""
        raise NotImplementedError

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        """Insert the rows in one transaction, the library's recommended way for many rows.

        Every subject starts from the same plain tuples and does whatever its bulk call needs
        with them inside the timed call (dicts for SQLAlchemy); none builds model objects, and
        none fetches the generated ids (no ORM's bulk call returns them)."""
        raise NotImplementedError

    def select_all(self) -> Sequence[Any]:
        """Every row of ``users`` as the library's objects."""
        raise NotImplementedError

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        """The object of each primary key, one lookup each."""
        raise NotImplementedError

    def load(self) -> Any:
        """Untimed set-up for ``update_each``: every row, loaded as the library would."""
        raise NotImplementedError

    def update_each(self, loaded: Any) -> None:
        """Add 1 to each loaded user's age, one UPDATE per row, in one transaction."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
