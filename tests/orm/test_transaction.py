"""Transactions: commit, rollback on exceptions, savepoints, explicit begin/commit/rollback."""

from __future__ import annotations

import uuid

import pytest

from gee.orm import Engine, IntegrityError, OperationalError, QueryError
from tests.orm.models import User
from tests.servers import RunningServer


@pytest.fixture
def users(engine: Engine) -> Engine:
    engine.create_table(User)
    return engine


def count(engine: Engine) -> int:
    with engine.session() as s:
        return s.query(User).count()


class Boom(Exception):
    pass


def test_commit_and_rollback(users: Engine) -> None:
    with users.transaction() as s:
        s.insert(User(name="a", age=1))
    assert count(users) == 1

    def fail() -> None:
        with users.transaction() as s:
            s.insert(User(name="b", age=2))
            assert s.query(User).count() == 2
            raise Boom

    with pytest.raises(Boom):
        fail()
    assert count(users) == 1


def test_nested_blocks_are_savepoints(users: Engine) -> None:
    with users.transaction() as s:
        s.insert(User(name="outer", age=1))

        def fail() -> None:
            with s.transaction():
                s.insert(User(name="inner", age=2))
                raise Boom

        with pytest.raises(Boom):
            fail()
        with s.transaction():
            s.insert(User(name="kept", age=3))
            with s.transaction():
                s.insert(User(name="deep", age=4))
        assert s.in_transaction
    with users.session() as s:
        got = sorted(u.name for u in s.query(User).all())
    assert got == ["deep", "kept", "outer"]


def test_database_error_in_nested_block_keeps_outer_work(users: Engine) -> None:
    with users.transaction() as s:
        s.insert(User(name="a", age=1, email="same"))
        with pytest.raises(IntegrityError), s.transaction():
            s.insert(User(name="b", age=2, email="same"))
        s.insert(User(name="c", age=3))
    assert count(users) == 2


def test_explicit_begin_commit_rollback(users: Engine) -> None:
    with users.session() as s:
        s.begin()
        s.insert(User(name="a", age=1))
        s.rollback()
        assert s.query(User).count() == 0
        s.begin()
        s.insert(User(name="a", age=1))
        s.commit()
        s.begin()
        with pytest.raises(QueryError, match="already open"):
            s.begin()
        s.rollback()
        with pytest.raises(QueryError, match="without a transaction"):
            s.commit()
    assert count(users) == 1


def test_closing_a_session_rolls_back(users: Engine) -> None:
    s = users.session()
    s.begin()
    s.insert(User(name="a", age=1))
    s.close()
    assert count(users) == 0


def test_multi_object_insert_is_atomic(users: Engine) -> None:
    with users.session() as s, pytest.raises(IntegrityError):
        s.insert(User(name="a", age=1, email="x"), User(name="b", age=2, email="x"))
    assert count(users) == 0


@pytest.mark.postgres
def test_killed_connection_leaves_database_as_before(
    postgres_server: RunningServer, tmp_path: object
) -> None:
    from tests.servers import postgres_query

    schema = f"gee_killed_{uuid.uuid4().hex[:8]}"
    postgres_query(
        postgres_server, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    )
    try:
        with Engine(f"{postgres_server.extra['dsn']}?options=-csearch_path%3D{schema}") as engine:
            engine.create_table(User)

            def crash() -> None:
                with engine.transaction() as s:
                    s.insert(User(name="a", age=1))
                    (pid,) = s.raw("SELECT pg_backend_pid()")[0]
                    postgres_query(postgres_server, f"SELECT pg_terminate_backend({pid})")
                    s.insert(User(name="b", age=2))

            with pytest.raises(OperationalError):
                crash()
            assert count(engine) == 0
    finally:
        postgres_query(postgres_server, f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.mariadb
def test_killed_mariadb_connection_leaves_database_as_before(
    mariadb_server: RunningServer,
) -> None:
    from tests.servers import mariadb_query

    name = f"gee_killed_{uuid.uuid4().hex[:8]}"
    mariadb_query(mariadb_server, f"CREATE DATABASE {name}")
    try:
        with Engine(f"{mariadb_server.extra['dsn']}{name}") as engine:
            engine.create_table(User)

            def crash() -> None:
                with engine.transaction() as s:
                    s.insert(User(name="a", age=1))
                    (conn_id,) = s.raw("SELECT CONNECTION_ID()")[0]
                    mariadb_query(mariadb_server, f"KILL {conn_id}")
                    s.insert(User(name="b", age=2))

            with pytest.raises(OperationalError):
                crash()
            assert count(engine) == 0
    finally:
        mariadb_query(mariadb_server, f"DROP DATABASE {name}")


def test_session_keeps_working_after_a_failed_statement(users: Engine) -> None:
    # On PostgreSQL a session runs every statement on one reused cursor, and statements run 5
    # times are prepared on the server: a failure (inside a transaction or not) must leave both
    # usable for whatever the session runs next.
    with users.session() as s:
        s.insert(User(name="a", age=1, email="same"))
        for round in range(7):
            s.begin()
            s.insert(User(name=f"t{round}", age=round))
            with pytest.raises(IntegrityError):
                s.insert(User(name="dup", age=0, email="same"))
            s.rollback()
            with pytest.raises(IntegrityError):
                s.insert(User(name="dup", age=0, email="same"))
            got = s.get(User, 1)
            assert got is not None
            assert got.name == "a"
        user = User(name="b", age=2)
        s.insert(user)
        assert user.id is not None
        assert s.insert_many([User(name="c", age=3), User(name="d", age=4)]) == 2
        user.age = 20
        assert s.update(user) == 1
        assert sorted(u.name for u in s.query(User).all()) == ["a", "b", "c", "d"]
    assert count(users) == 4
