"""SQLAlchemy 2: the ORM (declarative ``Mapped`` classes, ``Session``) and Core (``Table``,
``Connection.execute``), each written the way the 2.0 tutorial writes the operation.

ORM: ``session.add(obj)`` then ``session.flush()`` per object (so each INSERT or UPDATE is sent,
and a new object's key known, before the next — "one by one"); ORM bulk INSERT
(``session.execute(insert(User), [dicts])``); ``session.scalars(select(User)).all()``;
``session.get(User, pk)`` in a fresh session (an empty identity map). Core: ``conn.execute(stmt,
params)`` with ``inserted_primary_key``; a list of dicts for bulk (``executemany``, or
"insertmanyvalues" batches on PostgreSQL); reads turn each ``Row`` into the same ``UserRow``
dataclass raw builds (Core has no model objects; its C-built, read-only rows alone would do less
than the task, "select into objects", and less than raw, its limit);
``update(users).where(...).values(...)`` per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, create_engine, insert, select, update
from sqlalchemy import Table as CoreTable
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bench.orm.subject import Database, RowData, Subject, UserRow

__all__ = ["core", "orm"]


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    age: Mapped[int]
    email: Mapped[str | None]


metadata = MetaData()
users = CoreTable(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("age", Integer, nullable=False),
    Column("email", String),
)


def _engine(db: Database) -> Any:
    url = db.url
    if db.kind == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.connect() as conn:  # open the pooled connection before anything is timed
        conn.execute(select(1))
    return engine


class AlchemyORM(Subject):
    name = "SQLAlchemy ORM"

    def __init__(self, db: Database) -> None:
        self.engine = _engine(db)

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        ids = []
        with Session(self.engine) as session, session.begin():
            for name, age, email in rows:
                user = User(name=name, age=age, email=email)
                session.add(user)
                session.flush()
                ids.append(user.id)
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(
                insert(User),
                [{"name": name, "age": age, "email": email} for name, age, email in rows],
            )

    def select_all(self) -> Sequence[Any]:
        with Session(self.engine) as session:
            return session.scalars(select(User)).all()

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        with Session(self.engine) as session:
            return [session.get(User, pk) for pk in ids]

    def load(self) -> tuple[Session, Sequence[User]]:
        session = Session(self.engine)
        return session, session.scalars(select(User)).all()

    def update_each(self, loaded: tuple[Session, Sequence[User]]) -> None:
        session, objects = loaded
        with session:
            for user in objects:
                user.age += 1
                session.flush()
            session.commit()

    def close(self) -> None:
        self.engine.dispose()


class AlchemyCore(Subject):
    name = "SQLAlchemy Core"

    def __init__(self, db: Database) -> None:
        self.engine = _engine(db)

    def insert_each(self, rows: Sequence[RowData]) -> list[Any]:
        ids = []
        statement = insert(users)
        with self.engine.begin() as conn:
            for name, age, email in rows:
                result = conn.execute(statement, {"name": name, "age": age, "email": email})
                ids.append(result.inserted_primary_key[0])
        return ids

    def bulk_insert(self, rows: Sequence[RowData]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(users),
                [{"name": name, "age": age, "email": email} for name, age, email in rows],
            )

    def select_all(self) -> Sequence[Any]:
        with self.engine.connect() as conn:
            return [UserRow(*row) for row in conn.execute(select(users))]

    def get_each(self, ids: Sequence[int]) -> list[Any]:
        with self.engine.connect() as conn:
            return [
                UserRow(*conn.execute(select(users).where(users.c.id == pk)).one()) for pk in ids
            ]

    def load(self) -> Sequence[Any]:
        return self.select_all()

    def update_each(self, loaded: Sequence[Any]) -> None:
        with self.engine.begin() as conn:
            for row in loaded:
                conn.execute(update(users).where(users.c.id == row.id).values(age=row.age + 1))

    def close(self) -> None:
        self.engine.dispose()


def orm(db: Database) -> Subject:
    return AlchemyORM(db)


def core(db: Database) -> Subject:
    return AlchemyCore(db)
