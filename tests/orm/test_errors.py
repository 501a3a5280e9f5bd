"""Driver errors become gee.orm errors carrying the statement and shortened parameters."""

from __future__ import annotations

import sqlite3

import pytest

from gee.orm.errors import (
    MAX_VALUE_CHARS,
    DatabaseError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    translate,
)


class DataError(Exception):  # named like the DB-API class, as a driver's would be
    pass


@pytest.mark.parametrize(
    ("exc", "want"),
    [
        (sqlite3.IntegrityError("UNIQUE constraint failed"), IntegrityError),
        (sqlite3.OperationalError("database is locked"), OperationalError),
        (sqlite3.ProgrammingError("closed"), ProgrammingError),
        (DataError("bad value"), ProgrammingError),
        (sqlite3.DatabaseError("disk image is malformed"), DatabaseError),
    ],
)
def test_translate_by_dbapi_class(exc: Exception, want: type[DatabaseError]) -> None:
    got = translate(exc, "SELECT ?", [1])
    assert type(got) is want, f"got {type(got).__name__}; want {want.__name__}"
    assert str(exc) in str(got)


def test_message_has_sql_and_short_params() -> None:
    long = "x" * 500
    error = translate(sqlite3.IntegrityError("boom"), "INSERT INTO t VALUES (?, ?)", [long, 7])
    text = str(error)
    assert "SQL: INSERT INTO t VALUES (?, ?)" in text
    assert long not in text
    assert "'" + "x" * (MAX_VALUE_CHARS - 4) + "..." in text
    assert error.params == (long, 7)
    many = str(DatabaseError("boom", "SELECT", list(range(100))))
    assert "... (100 values)" in many
