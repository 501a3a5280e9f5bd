"""Engine URLs, the pool, and errors for bad set-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from gee.orm import ConfigError, Engine, OperationalError
from gee.orm.engine import URL
from tests.orm.models import User


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("sqlite:///app.db", URL("sqlite", database="app.db")),
        ("sqlite:////tmp/app.db", URL("sqlite", database="/tmp/app.db")),
        ("sqlite://:memory:", URL("sqlite", database=":memory:")),
        ("sqlite://", URL("sqlite", database=":memory:")),
        (
            "postgresql://bob:s%40cret@db.local:5433/shop?sslmode=disable",
            URL(
                "postgresql",
                host="db.local",
                port=5433,
                user="bob",
                password="s@cret",
                database="shop",
                options={"sslmode": "disable"},
            ),
        ),
        ("mysql://root@127.0.0.1:3306/", URL("mysql", host="127.0.0.1", port=3306, user="root")),
    ],
)
def test_parse(url: str, want: URL) -> None:
    got, _ = URL.parse(url)
    fields = ("scheme", "host", "port", "user", "password", "database", "options")
    assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]


def test_pool_size_option_and_repr_hides_password() -> None:
    url, own = URL.parse("postgresql://u:pw@h:1/d?pool_size=2")
    assert own == {"pool_size": "2"}
    assert "pw" not in repr(url)
    assert url.driver_url() == "postgresql://u:pw@h:1/d"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("app.db", "bad database URL"),
        ("oracle://x/y", "unknown database scheme 'oracle'"),
        ("postgresql://h:notaport/d", "bad port"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Engine(url)


def test_bad_pool_size() -> None:
    with pytest.raises(ConfigError, match="pool_size"):
        Engine("sqlite://", pool_size=-1)


def test_pool_reuses_connections(tmp_path: Path) -> None:
    with Engine(f"sqlite:///{tmp_path / 'a.db'}", pool_size=1) as engine:
        with engine.session() as s:
            first = s._conn
        with engine.session() as s:
            assert s._conn is first
        a, b = engine.session(), engine.session()
        assert a._conn is not b._conn
        a.close()
        b.close()


def test_memory_database_is_shared_by_sessions() -> None:
    with Engine("sqlite://:memory:") as engine:
        engine.create_table(User)
        with engine.session() as s:
            s.insert(User(name="a", age=1))
        with engine.session() as s:
            assert s.query(User).count() == 1


def test_closed_engine_refuses_sessions(tmp_path: Path) -> None:
    engine = Engine(f"sqlite:///{tmp_path / 'a.db'}")
    engine.close()
    with pytest.raises(ConfigError, match="closed"):
        engine.session()


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:1/postgres", "mysql://root@127.0.0.1:1/x", "sqlite:///"],
)
def test_failure_to_connect_is_an_operational_error(url: str, tmp_path: Path) -> None:
    if url == "sqlite:///":
        url = f"sqlite:///{tmp_path}/no/such/dir/app.db"
    with Engine(url) as engine, pytest.raises(OperationalError, match="cannot connect"):
        engine.session()
