"""The clause tree and statements render exact SQL and parameters per dialect (no database)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from gee.orm import QueryError, and_, col, func, not_, or_, table_of
from gee.orm.clause import Node, Raw
from gee.orm.dialects import MySQLDialect, PostgreSQLDialect, SQLiteDialect
from gee.orm.statements import Delete, Select, Update
from tests.orm.models import Color, Everything, Post, User

SQLITE, PG, MY = SQLiteDialect(), PostgreSQLDialect(), MySQLDialect()
USERS = table_of(User)


def where(*terms: Any) -> Select:
    return Select(USERS, [User.name], where=[*terms])  # type: ignore[list-item]


CASES: list[tuple[str, Node, str, list[object]]] = [
    ("eq", where(User.age == 3), 'SELECT "name" FROM "users" WHERE "age" = ?', [3]),
    ("ne", where(User.age != 3), 'SELECT "name" FROM "users" WHERE "age" <> ?', [3]),
    (
        "range",
        where(User.age > 1, User.age <= 9),
        'SELECT "name" FROM "users" WHERE "age" > ? AND "age" <= ?',
        [1, 9],
    ),
    ("is null", where(User.email == None), 'SELECT "name" FROM "users" WHERE "email" IS NULL', []),  # noqa: E711
    (
        "is not null",
        where(col(User.email).is_not(None)),
        'SELECT "name" FROM "users" WHERE "email" IS NOT NULL',
        [],
    ),
    (
        "like",
        where(col(User.name).like("a%")),
        'SELECT "name" FROM "users" WHERE "name" LIKE ?',
        ["a%"],
    ),
    (
        "in",
        where(col(User.age).in_([1, 2])),
        'SELECT "name" FROM "users" WHERE "age" IN (?, ?)',
        [1, 2],
    ),
    ("empty in", where(col(User.age).in_([])), 'SELECT "name" FROM "users" WHERE 1 = 0', []),
    (
        "not in",
        where(col(User.age).not_in([1])),
        'SELECT "name" FROM "users" WHERE "age" NOT IN (?)',
        [1],
    ),
    (
        "between",
        where(col(User.age).between(1, 5)),
        'SELECT "name" FROM "users" WHERE "age" BETWEEN ? AND ?',
        [1, 5],
    ),
    (
        "or/and/not",
        where(or_(User.age < 1, and_(User.age > 5, not_(User.name == "x")))),
        'SELECT "name" FROM "users" WHERE ("age" < ? OR ("age" > ? AND NOT ("name" = ?)))',
        [1, 5, "x"],
    ),
    (
        "arithmetic",
        where(col(User.age) + 1 > 2),
        'SELECT "name" FROM "users" WHERE ("age" + ?) > ?',
        [1, 2],
    ),
    (
        "raw",
        where(Raw("age > ? AND name <> '?'", [1])),
        'SELECT "name" FROM "users" WHERE age > ? AND name <> \'?\'',
        [1],
    ),
    (
        "group/having/order/limit",
        Select(
            USERS,
            [User.age, func.count()],
            group_by=[User.age],
            having=[func.count() > 1],
            order_by=[col(User.age).desc()],
            limit=5,
            offset=10,
        ),
        'SELECT "age", COUNT(*) FROM "users" GROUP BY "age" HAVING COUNT(*) > ? '
        'ORDER BY "age" DESC LIMIT ? OFFSET ?',
        [1, 5, 10],
    ),
    (
        "join qualifies",
        Select(USERS, [User.name], joins=[(table_of(Post), col(Post.user_id) == User.id)]),
        'SELECT "users"."name" FROM "users" JOIN "posts" ON "posts"."user_id" = "users"."id"',
        [],
    ),
    (
        "update",
        Update(USERS, [(User.age, col(User.age) + 1)], [User.name == "a"]),  # type: ignore[list-item]
        'UPDATE "users" SET "age" = ("age" + ?) WHERE "name" = ?',
        [1, "a"],
    ),
    ("delete", Delete(USERS, []), 'DELETE FROM "users"', []),
]


@pytest.mark.parametrize(("name", "node", "sql", "params"), CASES, ids=[c[0] for c in CASES])
def test_sqlite_sql(name: str, node: Node, sql: str, params: list[object]) -> None:
    got = node.compile(SQLITE)
    assert got == (sql, params), f"got {got}; want {(sql, params)}"


@pytest.mark.parametrize(("name", "node", "sql", "params"), CASES, ids=[c[0] for c in CASES])
def test_postgresql_sql(name: str, node: Node, sql: str, params: list[object]) -> None:
    want = sql.replace("?", "%s").replace("'%s'", "'?'")
    assert node.compile(PG) == (want, params)


@pytest.mark.parametrize(("name", "node", "sql", "params"), CASES, ids=[c[0] for c in CASES])
def test_mysql_sql(name: str, node: Node, sql: str, params: list[object]) -> None:
    want = sql.replace('"', "`").replace("?", "%s").replace("'%s'", "'?'")
    assert node.compile(MY) == (want, params)


def test_offset_without_limit_per_dialect() -> None:
    q = Select(USERS, [User.name], offset=3)
    assert q.compile(SQLITE) == ('SELECT "name" FROM "users" LIMIT ? OFFSET ?', [-1, 3])
    assert q.compile(PG) == ('SELECT "name" FROM "users" OFFSET %s', [3])
    assert q.compile(MY) == ("SELECT `name` FROM `users` LIMIT %s OFFSET %s", [2**64 - 1, 3])


def test_percent_is_escaped_for_format_style_drivers() -> None:
    node = where(Raw("name LIKE 'a%' AND age > ?", [1]))
    assert node.compile(SQLITE)[0].endswith("name LIKE 'a%' AND age > ?")
    assert node.compile(PG)[0].endswith("name LIKE 'a%%' AND age > %s")


def test_values_are_converted_for_the_column() -> None:
    u = uuid.UUID(int=1)
    node = Select(
        table_of(Everything),
        [Everything.i],
        where=[
            Everything.uid == u,
            Everything.color == Color.RED,
            Everything.when > dt.datetime(2024, 1, 2, 3, 4, 5),  # type: ignore[list-item]
        ],
    )
    assert node.compile(SQLITE)[1] == [str(u), "red", "2024-01-02 03:04:05.000000"]
    assert node.compile(PG)[1] == [u, "red", dt.datetime(2024, 1, 2, 3, 4, 5)]
    assert node.compile(MY)[1] == [str(u), "red", dt.datetime(2024, 1, 2, 3, 4, 5)]


def test_identifiers_are_quoted() -> None:
    assert SQLITE.quote('a"b') == '"a""b"'
    assert MY.quote("a`b") == "`a``b`"


def test_conditions_have_no_truth_value() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(User.age == 3)


def test_func_names_must_be_identifiers() -> None:
    with pytest.raises(AttributeError):
        func.__getattr__("count(*); --")
    assert func.lower(User.name).compile(SQLITE) == ('LOWER("name")', [])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Raw("a = ? and b = ?", [1]), "2 '?' placeholders; got 1"),
        (lambda: and_(), "at least one"),
        (lambda: or_(), "at least one"),
        (lambda: not_(False), "a condition must be an expression"),
        (lambda: User.age == "x", "User.age is int; got str"),
        (lambda: col(User.age).in_([1, "2"]), "User.age is int; got str"),
        (lambda: Everything.uid == "not-a-uuid", "Everything.uid is UUID; got str"),
    ],
)
def test_bad_expressions(build: Any, message: str) -> None:
    with pytest.raises(QueryError) as info:
        build()
    assert message in str(info.value)
