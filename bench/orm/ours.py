"""gee.orm, as docs/orm.md writes each operation.

``s.insert(User(...))`` per row inside ``engine.transaction()`` (it fills ``id``);
``s.insert_many(User, rows)`` with the given tuples (no objects, no ids: like every subject's
bulk call); ``s.query(User).all()``; ``s.get(User, pk)``; ``s.update(obj)`` per row inside
``engine.transaction()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.orm.subject import Database, RowData, Subject
from gee.orm import Engine, Field, Model

__all__ = ["gee_subject"]


class User(Model, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    age: int
    email: str | None = None


class Gee(Subject):
    name = "gee.orm"

    def __init__(self, db: Database) -> None:
        self.engine = Engine(db.url)
        with self.engine.session() as s:  # open the pooled connection before anything is timed
            s.raw("SELECT 1")

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        ids = []
        with self.engine.transaction() as s:
            for name, age, email in rows:
                user = User(name=name, age=age, email=email)
                s.insert(user)
                ids.append(user.id)
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        with self.engine.session() as s:
            s.insert_many(User, rows)  # (name, age, email): every field but the generated key

    def select_all(self) -> Sequence[Any]:
        with self.engine.session() as s:
            return s.query(User).all()

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        with self.engine.session() as s:
            return [s.get(User, pk) for pk in ids]

    def load(self) -> Sequence[User]:
        with self.engine.session() as s:
            return s.query(User).all()

    def update_each(self, loaded: Sequence[User]) -> None:
        with self.engine.transaction() as s:
            for user in loaded:
                user.age += 1
                s.update(user)

    def close(self) -> None:
        self.engine.close()


def gee_subject(db: Database) -> Subject:
    return Gee(db)
