"""Foreign keys and one-to-many loading with prefetch (one query, not one per parent)."""

from __future__ import annotations

import logging

import pytest

from gee.orm import Engine, Field, IntegrityError, QueryError, SchemaError, table_of
from gee.orm.dialects import SQLiteDialect
from tests.orm.models import Author, Book, User


@pytest.fixture
def library(engine: Engine) -> Engine:
    engine.create_table(Author, Book)
    with engine.session() as s:
        s.insert(Author(name="le guin"), Author(name="borges"), Author(name="nobody"))
        s.insert(
            Book(author_id=1, title="earthsea"),
            Book(author_id=2, title="ficciones"),
            Book(author_id=1, title="the dispossessed"),
        )
    return engine


def test_foreign_key_ddl() -> None:
    sql = SQLiteDialect().create_table(table_of(Book))[0]
    assert (
        'CONSTRAINT "fk_books_author_id" FOREIGN KEY ("author_id") REFERENCES "authors" ("id") '
        "ON DELETE CASCADE" in sql
    )


def test_foreign_key_is_enforced(library: Engine) -> None:
    with library.session() as s:
        with pytest.raises(IntegrityError):
            s.insert(Book(author_id=99, title="orphan"))
        s.query(Author).where(Author.name == "le guin").delete()
        assert [b.title for b in s.query(Book).all()] == ["ficciones"]


def test_prefetch_loads_children_in_one_query(
    library: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with library.session() as s:
        authors = s.query(Author).order_by("id").all()
        with caplog.at_level(logging.DEBUG, logger="gee.orm"):
            books = s.prefetch(authors, Book, on=Book.author_id)
        assert len(caplog.records) == 1, "want one query for all parents"
        got = {a.name: [b.title for b in books[a.id]] for a in authors}
        assert got == {
            "le guin": ["earthsea", "the dispossessed"],
            "borges": ["ficciones"],
            "nobody": [],
        }
        assert s.prefetch([], Book, on=Book.author_id) == {}
        few = s.prefetch(authors, Book, on=Book.author_id, chunk=1)
        assert few == books


def test_prefetch_refuses_a_column_of_another_model(library: Engine) -> None:
    with library.session() as s, pytest.raises(QueryError, match="takes a column of Book"):
        s.prefetch([], Book, on=User.id)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"foreign_key": "users.id"}, "takes a column such as User.id"),
        ({"foreign_key": User.id, "on_delete": "EXPLODE"}, "on_delete"),
        ({"on_delete": "CASCADE"}, "with a foreign_key"),
    ],
)
def test_bad_foreign_keys(options: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        Field(**options)  # type: ignore[arg-type]
