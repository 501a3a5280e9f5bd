"""Hooks: model methods called around statements, with the session; before-hooks can abort."""

from __future__ import annotations

from typing import Any

import pytest

from gee.orm import Engine, Field, Model, Session

CALLS: list[tuple[str, Any]] = []


class Account(Model, table="accounts"):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    balance: int = 0

    def before_insert(self, session: Session) -> None:
        if self.balance < 0:
            raise ValueError("negative opening balance")
        CALLS.append(("before_insert", self.id))

    def after_insert(self, session: Session) -> None:
        CALLS.append(("after_insert", self.id))

    def before_update(self, session: Session) -> None:
        CALLS.append(("before_update", self.balance))

    def after_update(self, session: Session) -> None:
        CALLS.append(("after_update", self.balance))

    def before_delete(self, session: Session) -> None:
        CALLS.append(("before_delete", self.id))

    def after_delete(self, session: Session) -> None:
        CALLS.append(("after_delete", self.id))

    def after_query(self, session: Session) -> None:
        assert isinstance(session, Session)
        CALLS.append(("after_query", self.name))


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


def test_hooks_run_in_order(engine: Engine) -> None:
    engine.create_table(Account)
    with engine.session() as s:
        a = Account(name="ann")
        s.insert(a)
        assert [("before_insert", None), ("after_insert", a.id)] == CALLS
        CALLS.clear()
        a.balance = 5
        s.update(a)
        assert CALLS == [("before_update", 5), ("after_update", 5)]
        CALLS.clear()
        assert [x.name for x in s.query(Account).all()] == ["ann"]
        assert s.get(Account, a.id) == a
        assert CALLS == [("after_query", "ann"), ("after_query", "ann")]
        CALLS.clear()
        s.delete(a)
        assert [("before_delete", a.id), ("after_delete", a.id)] == CALLS


def test_before_hook_aborts_the_statement(engine: Engine) -> None:
    engine.create_table(Account)
    with engine.session() as s:
        with pytest.raises(ValueError, match="negative"):
            s.insert(Account(name="ok"), Account(name="bad", balance=-1))
        assert s.query(Account).count() == 0
        with pytest.raises(ValueError, match="negative"):
            s.insert_many([Account(name="bad", balance=-1)])
        assert s.query(Account).count() == 0
        # rows become objects when the model has insert hooks, so the hooks still run
        with pytest.raises(ValueError, match="negative"):
            s.insert_many(Account, [("ok", 0), ("bad", -1)], fields=["name", "balance"])
        assert s.query(Account).count() == 0
        CALLS.clear()
        assert s.insert_many(Account, [{"name": "ok"}]) == 1
        assert CALLS == [("before_insert", None), ("after_insert", None)], f"got {CALLS}"


def test_models_without_hooks_have_none() -> None:
    from gee.orm import table_of
    from tests.orm.models import User

    assert table_of(User).hooks == frozenset()
    assert len(table_of(Account).hooks) == 7
