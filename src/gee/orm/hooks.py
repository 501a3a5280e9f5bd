"""Hooks: model methods a session calls around its statements, as GeeORM's ``CallMethod`` does.

A model opts in by defining any of these methods; each takes the session::

    class Account(Model):
        ...
        def before_insert(self, session: Session) -> None:
            self.created = datetime.now()

``before_*`` hooks run before the statement is sent; an exception there aborts the statement and
propagates (inside a transaction, the ``with`` block then rolls back). ``after_*`` hooks run once
the statement succeeded. ``after_query`` runs on every instance a query loaded.

Which hooks a model defines is worked out once, when the class is created, and stored on its
table: a model without hooks pays nothing per row.

The hooks of ``update`` and ``delete`` run for instance-level calls (``session.update(obj)``,
``session.delete(obj)``); a bulk ``query(...).update(...)`` has no instances to call them on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gee.orm.session import Session

__all__ = [
    "AFTER_DELETE",
    "AFTER_INSERT",
    "AFTER_QUERY",
    "AFTER_UPDATE",
    "BEFORE_DELETE",
    "BEFORE_INSERT",
    "BEFORE_UPDATE",
    "HOOKS",
    "Hook",
    "run_hooks",
]

BEFORE_INSERT = "before_insert"
AFTER_INSERT = "after_insert"
BEFORE_UPDATE = "before_update"
AFTER_UPDATE = "after_update"
BEFORE_DELETE = "before_delete"
AFTER_DELETE = "after_delete"
AFTER_QUERY = "after_query"

HOOKS = (
    BEFORE_INSERT,
    AFTER_INSERT,
    BEFORE_UPDATE,
    AFTER_UPDATE,
    BEFORE_DELETE,
    AFTER_DELETE,
    AFTER_QUERY,
)


class Hook(Protocol):
    """The shape of a hook method, bound to an instance: it takes the session."""

    def __call__(self, session: Session, /) -> None: ...


def run_hooks(name: str, objects: Any, session: Session) -> None:
    """Call method ``name`` on each of ``objects`` with ``session``, in order."""
    for obj in objects:
        getattr(obj, name)(session)
