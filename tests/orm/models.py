"""Models shared by the gee.orm tests (module level, so their annotations resolve)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from gee.orm import Field, Model


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class User(Model, table="users"):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, index=True)
    age: int
    email: str | None = Field(default=None, unique=True, max_length=120)


class Post(Model, table="posts"):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    title: str


class Everything(Model, table="everything"):
    id: int | None = Field(default=None, primary_key=True)
    i: int
    s: str
    f: float
    b: bytes
    flag: bool
    when: dt.datetime
    day: dt.date
    money: Decimal
    uid: uuid.UUID
    color: Color
    level: Level
    doc: dict[str, Any]
    items: list[Any]
    maybe: str | None = None


class Pair(Model, table="pairs"):
    a: int = Field(primary_key=True)
    b: str = Field(primary_key=True, max_length=20)
    note: str = ""


class Tag(Model, table="tags", unique=[("kind", "label")], indexes=[("label", "weight")]):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    label: str = Field(max_length=40)
    weight: int = 0


class Author(Model, table="authors"):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Book(Model, table="books"):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key=Author.id, on_delete="cascade", index=True)
    title: str
