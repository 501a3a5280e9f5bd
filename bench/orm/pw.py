"""peewee, as its documentation writes each operation.

``Model.create`` per row inside ``db.atomic()``; bulk: ``insert_many`` in ``chunked(rows, 100)``
batches inside ``db.atomic()`` (the docs' recipe); ``list(User.select())``;
``User.get_by_id(pk)``; ``obj.save()`` per row. On PostgreSQL peewee runs over psycopg 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import peewee
from peewee import AutoField, IntegerField, TextField, chunked

from bench.orm.subject import Database, RowData, Subject

__all__ = ["peewee_subject"]


class User(peewee.Model):
    id = AutoField()
    name = TextField()
    age = IntegerField()
    email = TextField(null=True)

    class Meta:
        table_name = "users"


class Peewee(Subject):
    name = "peewee"

    def __init__(self, db: Database) -> None:
        if db.kind == "sqlite":
            self.db: peewee.Database = peewee.SqliteDatabase(str(db.path))
        else:
            import psycopg  # noqa: F401  (peewee falls back to psycopg2, which is not installed)

            assert db.dsn is not None
            port = int(db.dsn.rsplit(":", 1)[1].split("/", 1)[0])
            self.db = peewee.PostgresqlDatabase(
                "postgres", host="127.0.0.1", port=port, user="postgres", prefer_psycopg3=True
            )
        self.db.bind([User])
        self.db.connect()

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        ids = []
        with self.db.atomic():
            for name, age, email in rows:
                ids.append(User.create(name=name, age=age, email=email).id)
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        fields = [User.name, User.age, User.email]
        with self.db.atomic():
            for batch in chunked(rows, 100):
                User.insert_many(batch, fields=fields).execute()

    def select_all(self) -> Sequence[Any]:
        return list(User.select())

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        return [User.get_by_id(pk) for pk in ids]

    def load(self) -> Sequence[Any]:
        return self.select_all()

    def update_each(self, loaded: Sequence[Any]) -> None:
        with self.db.atomic():
            for user in loaded:
                user.age += 1
                user.save()

    def close(self) -> None:
        self.db.close()


def peewee_subject(db: Database) -> Subject:
    return Peewee(db)
