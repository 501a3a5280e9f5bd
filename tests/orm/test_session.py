"""Session and Query against real databases: the same tests on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest

from gee.orm import (
    Engine,
    Field,
    IntegrityError,
    Model,
    MultipleResultsFound,
    NoResultFound,
    ProgrammingError,
    QueryError,
    and_,
    col,
    func,
    not_,
    or_,
)
from tests.orm.models import Pair, Post, Tag, User

PEOPLE = [("ann", 30), ("bob", 12), ("cid", 45), ("dee", 18), ("eve", 30)]


@pytest.fixture
def people(engine: Engine) -> Engine:
    with engine.transaction() as s:
        s.create_table(User, Post)
        s.insert(*(User(name=n, age=a, email=f"{n}@x.org") for n, a in PEOPLE))
    return engine


def names(users: list[User]) -> list[str]:
    return [u.name for u in users]


def test_tables(engine: Engine) -> None:
    assert not engine.has_table(User)
    engine.create_table(User, Tag, Pair)
    assert engine.has_table(User)
    assert engine.has_table("tags")
    assert engine.has_table(Pair)
    engine.create_table(User, exists_ok=True)
    with pytest.raises(ProgrammingError):
        engine.create_table(User)
    engine.drop_table(User)
    assert not engine.has_table(User)
    engine.drop_table(User, missing_ok=True)


def test_insert_fills_generated_keys(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        a, b = User(name="ann", age=1), User(name="bob", age=2)
        s.insert(a, b)
        assert (a.id, b.id) == (1, 2), f"got ids {a.id}, {b.id}; want 1, 2"
        c = User(id=10, name="cid", age=3)
        s.insert(c)
        assert c.id == 10
        assert s.get(User, 10) == c
        assert s.get(User, 2) == b
        assert s.get(User, 99) is None


def test_where_forms(people: Engine) -> None:
    with people.session() as s:
        q = s.query(User)
        assert names(q.where(User.age > 18).order_by("name").all()) == ["ann", "cid", "eve"]
        assert names(q.where(User.age >= 18, col(User.name).like("%e%")).all()) == ["dee", "eve"]
        assert names(q.where("age > ? AND name <> ?", 18, "ann").order_by("name").all()) == [
            "cid",
            "eve",
        ]
        assert names(q.where(col(User.name).in_(["bob", "eve", "zed"])).order_by("name").all()) == [
            "bob",
            "eve",
        ]
        assert q.where(col(User.name).in_([])).all() == []
        assert names(q.where(col(User.age).between(12, 18)).order_by("age").all()) == ["bob", "dee"]
        assert names(q.where(or_(User.age < 13, User.age > 40)).order_by("age").all()) == [
            "bob",
            "cid",
        ]
        assert names(q.where(not_(and_(User.age >= 18, User.age <= 30))).order_by("age").all()) == [
            "bob",
            "cid",
        ]
        assert names(q.filter_by(age=30).order_by("name").all()) == ["ann", "eve"]
        assert names(q.where(User.email == "cid@x.org").all()) == ["cid"]


def test_nulls(people: Engine) -> None:
    with people.session() as s:
        s.insert(User(name="nobody", age=0))
        assert names(s.query(User).where(col(User.email).is_(None)).all()) == ["nobody"]
        assert names(s.query(User).where(User.email == None).all()) == ["nobody"]  # noqa: E711
        assert s.query(User).where(col(User.email).is_not(None)).count() == 5


def test_order_limit_offset_first_one(people: Engine) -> None:
    with people.session() as s:
        q = s.query(User).order_by(col(User.age).desc(), "name")
        assert names(q.all()) == ["cid", "ann", "eve", "dee", "bob"]
        assert names(q.limit(2).offset(1).all()) == ["ann", "eve"]
        assert names(q.offset(3).all()) == ["dee", "bob"]
        assert names(s.query(User).order_by("-age", "-name").limit(2).all()) == ["cid", "eve"]
        first = q.first()
        assert first is not None
        assert first.name == "cid"
        assert s.query(User).where(User.age > 100).first() is None
        assert s.query(User).where(User.name == "bob").one().age == 12
        with pytest.raises(NoResultFound):
            s.query(User).where(User.age > 100).one()
        with pytest.raises(MultipleResultsFound):
            s.query(User).where(User.age == 30).one()
        assert [u.name for u in q.limit(1)] == ["cid"]


def test_count_exists(people: Engine) -> None:
    with people.session() as s:
        assert s.query(User).count() == 5
        assert s.query(User).where(User.age == 30).count() == 2
        assert s.query(User).order_by("age").limit(2).count() == 2
        assert s.query(User).where(User.age > 40).exists()
        assert not s.query(User).where(User.age > 99).exists()


def test_select_group_by_having(people: Engine) -> None:
    with people.session() as s:
        rows = s.query(User).select(User.name, User.age).where(User.age < 20).order_by("age").all()
        assert rows == [("bob", 12), ("dee", 18)]
        groups = (
            s.query(User)
            .select(User.age, func.count())
            .group_by(User.age)
            .having(func.count() > 1)
            .all()
        )
        assert groups == [(30, 2)]
        assert s.query(User).select(func.max(User.age)).one() == (45,)
        assert s.query(User).group_by("age").count() == 4


def test_bulk_update_delete(people: Engine) -> None:
    with people.session() as s:
        assert s.query(User).where(User.age == 30).update(age=31) == 2
        assert s.query(User).where(User.age == 31).count() == 2
        assert s.query(User).where(User.name == "bob").update(age=col(User.age) + 1) == 1
        assert s.query(User).where(User.name == "bob").one().age == 13
        assert s.query(User).where(User.age < 20).delete() == 2
        assert s.query(User).count() == 3
        assert s.query(User).update(email=None) == 3


def test_instance_update_delete(people: Engine) -> None:
    with people.session() as s:
        ann = s.query(User).where(User.name == "ann").one()
        ann.age = 99
        assert s.update(ann) == 1
        assert s.get(User, ann.id) == ann
        assert s.delete(ann) == 1
        assert s.get(User, ann.id) is None
        assert s.delete(ann) == 0


def test_composite_key(engine: Engine) -> None:
    engine.create_table(Pair)
    with engine.session() as s:
        s.insert(Pair(a=1, b="x", note="one"), Pair(a=1, b="y"))
        got = s.get(Pair, (1, "x"))
        assert got == Pair(a=1, b="x", note="one")
        with pytest.raises(IntegrityError):
            s.insert(Pair(a=1, b="x"))
        with pytest.raises(QueryError, match="2-column key"):
            s.get(Pair, 1)


def test_insert_many(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        users = [User(name=f"u{i}", age=i) for i in range(2500)]
        assert s.insert_many(users, batch_size=1000) == 2500
        assert s.query(User).count() == 2500
        assert s.query(User).select(func.sum(User.age)).one()[0] == sum(range(2500))


def test_insert_many_is_all_or_nothing(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        users = [User(name="a", age=1, email="same"), User(name="b", age=2, email="same")]
        with pytest.raises(IntegrityError):
            s.insert_many(users)
        assert s.query(User).count() == 0


def test_insert_many_streams_objects(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        users = (User(name=f"u{i}", age=i) for i in range(300))
        assert s.insert_many(users) == 300  # a generator, one executemany
        got = s.query(User).order_by(User.id).select(User.name, User.age).all()
        assert got == [(f"u{i}", i) for i in range(300)], f"got {got[:3]}...; want u0..u299"


def test_insert_many_rows(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        # tuples of every field but the generated key, in declaration order
        assert s.insert_many(User, [("ann", 30, "ann@x.org"), ("bob", 12, None)]) == 2
        # dicts: their keys are the fields; the others take the model's defaults
        assert s.insert_many(User, [{"name": "cid", "age": 45}, {"age": 18, "name": "dee"}]) == 2
        # tuples of named fields, from any iterable
        assert s.insert_many(User, iter([("eve", 30)]), fields=["name", "age"]) == 1
        assert (
            s.insert_many(User, [(6, "fay", 6, None)], fields=["id", "name", "age", "email"]) == 1
        )
        assert s.insert_many(User, []) == 0
        got = s.query(User).order_by(User.name).select(User.name, User.age, User.email).all()
        want = [
            ("ann", 30, "ann@x.org"),
            ("bob", 12, None),
            ("cid", 45, None),
            ("dee", 18, None),
            ("eve", 30, None),
            ("fay", 6, None),
        ]
        assert got == want, f"got {got}; want {want}"
        assert s.get(User, 6) == User(id=6, name="fay", age=6)


def test_insert_many_rows_in_batches(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        rows = [(f"u{i}", i, None) for i in range(2500)]
        assert s.insert_many(User, rows, batch_size=1000) == 2500
        assert s.query(User).select(func.sum(User.age)).one()[0] == sum(range(2500))
        with pytest.raises(QueryError, match="batch_size"):
            s.insert_many(User, rows, batch_size=0)


@pytest.mark.parametrize(
    ("rows", "fields", "error"),
    [
        ([("a", "1", None)], None, "User.age is int; got str '1'"),
        ([("a", None, None)], None, "User.age is NOT NULL"),
        ([("a", 1)], None, "a tuple of 3 values"),
        (["abc"], None, "a tuple of 3 values"),
        ([("a", 1, None), {"name": "b", "age": 2, "email": None}], None, "a tuple of 3 values"),
        ([{"name": "a", "age": 1}, {"name": "b", "agee": 2}], None, "a dict with the keys"),
        ([{"name": "a", "age": 1}, {"name": "b"}], None, "a dict with the keys"),
        ([{"name": "a", "age": 1, "nope": 2}], None, "no column 'nope'"),
        ([{"name": "a"}], None, "rows give no age and it has no default"),
        ([("a", 1)], ["name", "name"], "names a field twice"),
        ([("a", 1, None)], ["name", "age", "email; DROP TABLE users"], "no column"),
    ],
)
def test_insert_many_rows_refuses(
    engine: Engine, rows: list[object], fields: list[str] | None, error: str
) -> None:
    engine.create_table(User)
    with engine.session() as s:
        s.insert_many(User, [("first", 1, None)])
        with pytest.raises(QueryError, match=error):
            s.insert_many(User, rows, fields=fields)  # type: ignore[arg-type]
        assert s.query(User).count() == 1, "a refused insert_many left rows behind"


def test_insert_many_rows_is_all_or_nothing(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        with pytest.raises(IntegrityError):
            s.insert_many(User, [("a", 1, "same"), ("b", 2, "same")])
        with pytest.raises(QueryError):  # the bad row comes after good ones were sent
            s.insert_many(User, [*((f"u{i}", i, None) for i in range(100)), ("x", "y", None)])
        assert s.query(User).count() == 0
        s.insert_many(User, [("c", 3, None)])  # the session is still usable
        assert s.query(User).count() == 1


def test_insert_many_misuse(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s:
        with pytest.raises(QueryError, match="rows are missing"):
            s.insert_many(User)  # type: ignore[call-overload]
        with pytest.raises(QueryError, match="takes no rows"):
            s.insert_many([User(name="a", age=1)], fields=["name"])  # type: ignore[call-overload]


def test_upsert(engine: Engine) -> None:
    engine.create_table(User, Tag)
    with engine.session() as s:
        ann = User(name="ann", age=30, email="ann@x.org")
        s.insert(ann)
        s.upsert(User(id=ann.id, name="ann", age=31, email="ann@x.org"))
        assert s.query(User).one().age == 31
        again = User(name="ann2", age=32, email="ann@x.org")
        s.upsert(again, on=["email"])
        assert again.id == ann.id, f"got id {again.id}; want the updated row's {ann.id}"
        assert s.query(User).count() == 1
        assert s.query(User).one().name == "ann2"
        new = User(name="bob", age=1, email="bob@x.org")
        s.upsert(new, on=["email"])
        assert new.id is not None
        assert new.id != ann.id
        s.upsert(User(name="keep", age=0, email="bob@x.org"), on=["email"], update=[])
        assert s.get(User, new.id) == new
        t = Tag(kind="a", label="b", weight=1)
        s.upsert(t, on=["kind", "label"], update=["weight"])
        s.upsert(Tag(kind="a", label="b", weight=5), on=["kind", "label"], update=["weight"])
        assert s.query(Tag).select(Tag.weight).all() == [(5,)]


def test_upsert_needs_a_key(engine: Engine) -> None:
    engine.create_table(User)
    with engine.session() as s, pytest.raises(QueryError, match="on="):
        s.upsert(User(name="x", age=1))


def test_join(people: Engine) -> None:
    with people.session() as s:
        ann = s.query(User).where(User.name == "ann").one()
        s.insert(Post(user_id=ann.id or 0, title="hello"), Post(user_id=ann.id or 0, title="again"))
        q = s.query(User).join(Post, on=col(Post.user_id) == User.id)
        assert names(q.where(Post.title == "hello").all()) == ["ann"]
        rows = q.select(User.name, Post.title).order_by(Post.title).all()
        assert rows == [("ann", "again"), ("ann", "hello")]


def test_raw(people: Engine) -> None:
    with people.session() as s:
        rows = s.raw("SELECT name FROM users WHERE age = ? ORDER BY name", 30)
        assert rows == [("ann",), ("eve",)]
        assert s.raw("SELECT name FROM users WHERE name LIKE 'a%' AND age > ?", 1) == [("ann",)]
        assert s.raw("UPDATE users SET age = ? WHERE name = ?", 1, "ann") == []
        with pytest.raises(ProgrammingError) as info:
            s.raw("SELECT nope FROM users WHERE age = ?", 30)
        assert "SELECT nope" in str(info.value)
        assert "params: [30]" in str(info.value)


def test_integrity_error_carries_sql(people: Engine) -> None:
    with people.session() as s, pytest.raises(IntegrityError) as info:
        s.insert(User(name="dup", age=1, email="ann@x.org"))
    assert "INSERT INTO" in str(info.value)
    assert info.value.params[-1] == "ann@x.org"
    assert info.value.__cause__ is not None


def test_missing_table_is_a_programming_error(engine: Engine) -> None:
    with engine.session() as s, pytest.raises(ProgrammingError):
        s.query(User).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.query(User).where(User.age > "18"), "User.age is int; got str"),
        (lambda s: s.query(User).where(User.name == 3), "User.name is str; got int"),
        (lambda s: s.query(User).where(User.age == True), "User.age is int; got bool"),  # noqa: E712
        (lambda s: s.query(User).filter_by(nope=1), "User has no column 'nope'"),
        (lambda s: s.query(User).order_by("age; DROP TABLE users"), "has no column"),
        (lambda s: s.query(User).order_by(3), "order_by() takes"),
        (lambda s: s.query(User).update(**{"age = 0; --": 1}), "has no column"),
        (lambda s: s.query(User).update(name=None), "NOT NULL"),
        (lambda s: s.query(User).where(True), "a condition must be an expression"),
        (lambda s: s.query(User).where("age > ?"), "1 '?' placeholders; got 0"),
        (lambda s: s.query(User).limit(-1), "non-negative int"),
        (lambda s: s.insert(User(name=5, age=1)), "User.name is str; got int"),  # type: ignore[arg-type]
        (lambda s: s.insert(User(name="a", age=None)), "User.age is NOT NULL"),  # type: ignore[arg-type]
        (lambda s: s.update(User(name="a", age=1)), "primary key) is None"),
        (lambda s: s.get(User, "1"), "User.id is int; got str"),
        (lambda s: s.insert(object()), "not an instance of a gee.orm Model"),
        (lambda s: col(3), "col() takes a model column"),
        (lambda s: col(User.age).is_(3), "compares with None only"),
    ],
)
def test_bad_arguments_fail_before_sql(engine: Engine, call: object, message: str) -> None:
    engine.create_table(User)
    with engine.session() as s:
        with pytest.raises(QueryError) as info:
            call(s)  # type: ignore[operator]
        assert message in str(info.value), f"got {info.value}; want {message!r} in it"
        assert s.query(User).count() == 0


def test_closed_session(engine: Engine) -> None:
    engine.create_table(User)
    s = engine.session()
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(QueryError, match="session is closed"):
        s.query(User).all()
    with pytest.raises(QueryError, match="session is closed"):
        s.insert(User(name="a", age=1))


INJECTIONS = ["'; DROP TABLE users; --", "x' OR '1'='1", '"; DROP TABLE users; --', "?", "%s", "%"]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_values_never_become_sql(people: Engine, evil: str) -> None:
    with people.session() as s:
        s.insert(User(name=evil, age=7))
        assert names(s.query(User).where(User.name == evil).all()) == [evil]
        assert names(s.query(User).where("name = ?", evil).all()) == [evil]
        assert s.raw("SELECT name FROM users WHERE name = ?", evil) == [(evil,)]
        assert s.query(User).where(User.name == evil).update(name=evil + "!") == 1
        assert s.query(User).count() == 6
        assert s.has_table(User)
        assert not s.has_table(evil)


class KeyOnly(Model, table="key_only"):
    a: int = Field(primary_key=True)


def test_update_and_delete_by_key_check_the_key_first(engine: Engine) -> None:
    # update() and delete() cache what they prepare per class: the errors and their order must
    # not depend on whether the class was seen before.
    engine.create_table(KeyOnly, Pair)
    with engine.session() as s:
        for _ in range(2):
            with pytest.raises(QueryError, match=r"KeyOnly.a \(primary key\) is None"):
                s.update(KeyOnly(a=None))  # type: ignore[arg-type]
            with pytest.raises(QueryError, match="only key fields; nothing to update"):
                s.update(KeyOnly(a=1))
            with pytest.raises(QueryError, match=r"Pair.b \(primary key\) is None"):
                s.update(Pair(a=1, b=None))  # type: ignore[arg-type]
        s.insert(KeyOnly(a=1), Pair(a=1, b="x", note="n"))
        assert s.update(Pair(a=1, b="x", note="m")) == 1
        assert s.update(Pair(a=1, b="y", note="m")) == 0
        assert s.get(Pair, (1, "x")) == Pair(a=1, b="x", note="m")
        assert s.delete(KeyOnly(a=1)) == 1
        assert s.delete(Pair(a=1, b="x")) == 1
        assert s.query(Pair).count() == 0
