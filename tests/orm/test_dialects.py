"""Exact SQL of the dialect-owned statements: INSERT with keys, upsert, has_table, migrations."""

from __future__ import annotations

import logging

import pytest

from gee.orm import Engine, table_of
from gee.orm.dialects import MySQLDialect, PostgreSQLDialect, SQLiteDialect, dialect_for
from gee.orm.errors import ConfigError
from tests.orm.models import Tag, User

SQLITE, PG, MY = SQLiteDialect(), PostgreSQLDialect(), MySQLDialect()
USERS = table_of(User)
ALL = USERS.columns
NO_ID = USERS.columns[1:]


@pytest.mark.parametrize(
    ("dialect", "columns", "returning", "want"),
    [
        (SQLITE, NO_ID, True, 'INSERT INTO "users" ("name", "age", "email") VALUES (?, ?, ?)'),
        (
            PG,
            NO_ID,
            True,
            'INSERT INTO "users" ("name", "age", "email") VALUES (%s, %s, %s) RETURNING "id"',
        ),
        (
            PG,
            ALL,
            False,
            'INSERT INTO "users" ("id", "name", "age", "email") VALUES (%s, %s, %s, %s)',
        ),
        (MY, NO_ID, True, "INSERT INTO `users` (`name`, `age`, `email`) VALUES (%s, %s, %s)"),
        (SQLITE, [], False, 'INSERT INTO "users" DEFAULT VALUES'),
        (MY, [], False, "INSERT INTO `users` () VALUES ()"),
    ],
)
def test_insert_sql(dialect: object, columns: list[object], returning: bool, want: str) -> None:
    got = dialect.insert(USERS, columns, returning=returning)  # type: ignore[attr-defined]
    assert got == want, f"got {got}; want {want}"


def test_upsert_sql() -> None:
    email, name, age = USERS.by_name["email"], USERS.by_name["name"], USERS.by_name["age"]
    assert SQLITE.upsert(USERS, NO_ID, [email], [name, age], returning=True) == (
        'INSERT INTO "users" ("name", "age", "email") VALUES (?, ?, ?) ON CONFLICT ("email") '
        'DO UPDATE SET "name" = excluded."name", "age" = excluded."age" RETURNING "id"'
    )
    assert PG.upsert(USERS, ALL, [USERS.by_name["id"]], [], returning=False) == (
        'INSERT INTO "users" ("id", "name", "age", "email") VALUES (%s, %s, %s, %s) '
        'ON CONFLICT ("id") DO NOTHING'
    )
    assert MY.upsert(USERS, NO_ID, [email], [age], returning=True) == (
        "INSERT INTO `users` (`name`, `age`, `email`) VALUES (%s, %s, %s) "
        "ON DUPLICATE KEY UPDATE `age` = VALUES(`age`), `id` = LAST_INSERT_ID(`id`)"
    )
    tags = table_of(Tag)
    assert MY.upsert(tags, tags.columns[1:], [], [], returning=False).endswith(
        "ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`)"
    )


def test_has_table_sql() -> None:
    assert SQLITE.has_table("users") == (
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        ("users",),
    )
    assert PG.has_table("users")[0].endswith("table_schema = current_schema() AND table_name = %s")
    assert MY.has_table("users")[0].endswith("table_schema = DATABASE() AND table_name = %s")


def test_migration_sql() -> None:
    stock = USERS.by_name["age"]
    assert PG.add_column(USERS, stock, "0") == (
        'ALTER TABLE "users" ADD COLUMN "age" BIGINT NOT NULL DEFAULT 0'
    )
    assert MY.drop_column("users", "legacy") == "ALTER TABLE `users` DROP COLUMN `legacy`"
    assert SQLITE.rebuild_table(USERS, ["id", "name"], {"age": "0"})[1:4] == [
        'INSERT INTO "_gee_new_users" ("id", "name", "age") SELECT "id", "name", 0 FROM "users"',
        'DROP TABLE "users"',
        'ALTER TABLE "_gee_new_users" RENAME TO "users"',
    ]


def test_unknown_scheme() -> None:
    with pytest.raises(ConfigError, match="use one of sqlite://"):
        dialect_for("db2")


def test_statements_are_logged_at_debug_only(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine.create_table(User)
    with engine.session() as s:
        with caplog.at_level(logging.INFO, logger="gee.orm"):
            s.query(User).count()
        assert caplog.records == []
        with caplog.at_level(logging.DEBUG, logger="gee.orm"):
            s.query(User).where(User.age > 3).count()
        (record,) = caplog.records
        assert "COUNT(*)" in record.getMessage()
        assert "[3]" in record.getMessage()
