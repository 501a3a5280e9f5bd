"""The limit: the DB-API drivers themselves (sqlite3, psycopg 3), with hand-written SQL.

Inserts take the generated id (``lastrowid``; ``RETURNING`` on PostgreSQL) like the ORMs do;
rows read become ``UserRow`` dataclasses; an update sets only the changed column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.orm.subject import Database, RowData, Subject, UserRow

__all__ = ["raw"]

COLUMNS = "id, name, age, email"


class RawSQLite(Subject):
    name = "raw"

    def __init__(self, db: Database) -> None:
        import sqlite3

        assert db.path is not None
        self.conn = sqlite3.connect(db.path)  # the default: BEGIN before DML, commit() ends it

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        cur = self.conn.cursor()
        ids = []
        for row in rows:
            cur.execute("INSERT INTO users (name, age, email) VALUES (?, ?, ?)", row)
            ids.append(cur.lastrowid)
        self.conn.commit()
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        self.conn.executemany("INSERT INTO users (name, age, email) VALUES (?, ?, ?)", rows)
        self.conn.commit()

    def select_all(self) -> list[UserRow]:
        rows = self.conn.execute(f"SELECT {COLUMNS} FROM users").fetchall()
        return [UserRow(*row) for row in rows]

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        execute = self.conn.execute
        sql = f"SELECT {COLUMNS} FROM users WHERE id = ?"
        return [UserRow(*execute(sql, (pk,)).fetchone()) for pk in ids]

    def load(self) -> list[UserRow]:
        return self.select_all()

    def update_each(self, loaded: list[UserRow]) -> None:
        cur = self.conn.cursor()
        for user in loaded:
            user.age += 1
            cur.execute("UPDATE users SET age = ? WHERE id = ?", (user.age, user.id))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class RawPsycopg(Subject):
    name = "raw"

    def __init__(self, db: Database) -> None:
        import psycopg

        assert db.dsn is not None
        self.conn = psycopg.connect(db.dsn)  # the default: a transaction until commit()

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        ids = []
        with self.conn.cursor() as cur:
            for row in rows:
                cur.execute(
                    "INSERT INTO users (name, age, email) VALUES (%s, %s, %s) RETURNING id", row
                )
                ids.append(cur.fetchone()[0])  # type: ignore[index]
        self.conn.commit()
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO users (name, age, email) VALUES (%s, %s, %s)", rows)
        self.conn.commit()

    def select_all(self) -> list[UserRow]:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM users")
            users = [UserRow(*row) for row in cur.fetchall()]
        self.conn.commit()
        return users

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        users = []
        with self.conn.cursor() as cur:
            for pk in ids:
                cur.execute(f"SELECT {COLUMNS} FROM users WHERE id = %s", (pk,))
                users.append(UserRow(*cur.fetchone()))  # type: ignore[misc]
        self.conn.commit()
        return users

    def load(self) -> list[UserRow]:
        return self.select_all()

    def update_each(self, loaded: list[UserRow]) -> None:
        with self.conn.cursor() as cur:
            for user in loaded:
                user.age += 1
                cur.execute("UPDATE users SET age = %s WHERE id = %s", (user.age, user.id))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def raw(db: Database) -> Subject:
    return RawSQLite(db) if db.kind == "sqlite" else RawPsycopg(db)
