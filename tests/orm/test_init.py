"""The public API of gee.orm: a sorted, complete ``__all__`` and one exception tree."""

from __future__ import annotations

import gee.orm
from gee.errors import GeeError


def test_all_is_pinned() -> None:
    assert gee.orm.__all__ == [
        "Column",
        "ConfigError",
        "DatabaseError",
        "Engine",
        "Expr",
        "Field",
        "IntegrityError",
        "Model",
        "MultipleResultsFound",
        "NoResultFound",
        "ORMError",
        "OperationalError",
        "ProgrammingError",
        "Query",
        "QueryError",
        "SchemaError",
        "Session",
        "and_",
        "col",
        "func",
        "migrate",
        "not_",
        "or_",
        "table_of",
    ]
    assert gee.orm.__all__ == sorted(gee.orm.__all__)
    missing = [name for name in gee.orm.__all__ if not hasattr(gee.orm, name)]
    assert missing == [], f"got missing names {missing}; want none"


def test_errors_share_one_base() -> None:
    for name in ("ConfigError", "SchemaError", "QueryError", "NoResultFound", "DatabaseError"):
        assert issubclass(getattr(gee.orm, name), gee.orm.ORMError), name
    for name in ("IntegrityError", "OperationalError", "ProgrammingError"):
        assert issubclass(getattr(gee.orm, name), gee.orm.DatabaseError), name
    assert issubclass(gee.orm.ORMError, GeeError)
    import builtins

    shadowed = [n for n in gee.orm.__all__ if hasattr(builtins, n)]
    assert shadowed == [], f"got names shadowing builtins {shadowed}; want none"
