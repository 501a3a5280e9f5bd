"""The limit: the DB-API drivers themselves (sqlite3, psycopg 3), with hand-written SQL.

The best plain way to do what the ORMs do, with the same transaction handling as gee.orm: the
connection is in autocommit mode, writes are wrapped in an explicit ``BEGIN`` ... ``COMMIT``
and reads run outside any transaction (no BEGIN/COMMIT round trips an ORM session would not
make); one cursor is kept for the connection's life. Single inserts take the generated id
(``lastrowid``; ``RETURNING`` on PostgreSQL), as gee.orm's ``insert`` does; the bulk insert is
one ``executemany`` of the given tuples and fetches no ids, as none of the ORMs' bulk calls do;
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
        # isolation_level=None: autocommit, BEGIN/COMMIT sent explicitly (as gee.orm does).
        self.conn = sqlite3.connect(db.path, isolation_level=None)
        self.cur = self.conn.cursor()  # reused: measurably cheaper than conn.execute's new one

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        cur = self.cur
        ids = []
        cur.execute("BEGIN")
        for row in rows:
            cur.execute("INSERT INTO users (name, age, email) VALUES (?, ?, ?)", row)
            ids.append(cur.lastrowid)
        cur.execute("COMMIT")
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        cur = self.cur
        cur.execute("BEGIN")
        cur.executemany("INSERT INTO users (name, age, email) VALUES (?, ?, ?)", rows)
        cur.execute("COMMIT")

    def select_all(self) -> list[UserRow]:
        rows = self.cur.execute(f"SELECT {COLUMNS} FROM users").fetchall()
        return [UserRow(*row) for row in rows]

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        execute = self.cur.execute
        sql = f"SELECT {COLUMNS} FROM users WHERE id = ?"
        return [UserRow(*execute(sql, (pk,)).fetchone()) for pk in ids]

    def load(self) -> list[UserRow]:
        return self.select_all()

    def update_each(self, loaded: list[UserRow]) -> None:
        cur = self.cur
        cur.execute("BEGIN")
        for user in loaded:
            user.age += 1
            cur.execute("UPDATE users SET age = ? WHERE id = ?", (user.age, user.id))
        cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class RawPsycopg(Subject):
    name = "raw"

    def __init__(self, db: Database) -> None:
        import psycopg

        assert db.dsn is not None
        # autocommit, BEGIN/COMMIT sent explicitly (as gee.orm does): reads need no transaction.
        self.conn = psycopg.connect(db.dsn, autocommit=True)
        self.cur = self.conn.cursor()  # psycopg 3 cursors are reusable

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        cur = self.cur
        ids = []
        cur.execute("BEGIN")
        for row in rows:
            cur.execute(
                "INSERT INTO users (name, age, email) VALUES (%s, %s, %s) RETURNING id", row
            )
            ids.append(cur.fetchone()[0])  # type: ignore[index]
        cur.execute("COMMIT")
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        cur = self.cur
        cur.execute("BEGIN")
        # psycopg 3 pipelines executemany: one round trip's latency for all the rows.
        cur.executemany("INSERT INTO users (name, age, email) VALUES (%s, %s, %s)", rows)
        cur.execute("COMMIT")

    def select_all(self) -> list[UserRow]:
        rows = self.cur.execute(f"SELECT {COLUMNS} FROM users").fetchall()
        return [UserRow(*row) for row in rows]

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        execute = self.cur.execute
        sql = f"SELECT {COLUMNS} FROM users WHERE id = %s"
        return [UserRow(*execute(sql, (pk,)).fetchone()) for pk in ids]  # type: ignore[misc]

    def load(self) -> list[UserRow]:
        return self.select_all()

    def update_each(self, loaded: list[UserRow]) -> None:
        cur = self.cur
        cur.execute("BEGIN")
        for user in loaded:
            user.age += 1
            cur.execute("UPDATE users SET age = %s WHERE id = %s", (user.age, user.id))
        cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def raw(db: Database) -> Subject:
    return RawSQLite(db) if db.kind == "sqlite" else RawPsycopg(db)
