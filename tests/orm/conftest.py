"""Engines for the gee.orm tests: SQLite always, PostgreSQL and MariaDB through real servers.

``engine`` is parametrized over the three databases. Each test gets a database of its own — a
fresh SQLite file, a fresh PostgreSQL schema (``search_path``), a fresh MariaDB database — so the
session-wide servers can be shared without tests seeing each other's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.orm import Engine
from tests.servers import RunningServer, mariadb_query, postgres_query

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mariadb),
]


def _fresh_name() -> str:
    return f"gee_{uuid.uuid4().hex[:12]}"


def make_engine(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        with Engine(f"sqlite:///{tmp_path / 'test.db'}") as engine:
            yield engine
        return
    name = _fresh_name()
    if kind == "postgresql":
        pg: RunningServer = request.getfixturevalue("postgres_server")
        postgres_query(pg, f"CREATE SCHEMA {name}")
        try:
            with Engine(f"{pg.extra['dsn']}?options=-csearch_path%3D{name}") as engine:
                yield engine
        finally:
            postgres_query(pg, f"DROP SCHEMA {name} CASCADE")
        return
    my: RunningServer = request.getfixturevalue("mariadb_server")
    mariadb_query(my, f"CREATE DATABASE {name}")
    try:
        with Engine(f"{my.extra['dsn']}{name}") as engine:
            yield engine
    finally:
        mariadb_query(my, f"DROP DATABASE {name}")


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database of each kind in turn."""
    yield from make_engine(request, request.param, tmp_path)
