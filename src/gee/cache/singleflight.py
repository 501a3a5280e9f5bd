"""Duplicate call suppression for asyncio: groupcache's ``singleflight``, as a task per key.

The first caller of :meth:`SingleFlight.do` for a key starts ``fn()`` in a task of its own;
callers that arrive while it runs wait for that same task, and every one of them gets its result
or its exception. The leaf imports nothing of gee.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """A namespace of keys in which at most one call per key is in flight at a time.

    Not thread-safe: use one from one event loop. A finished call is forgotten at once, so a
    caller arriving after it ends starts a new one (this dedups concurrent calls, it is no cache).
    """

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        # key -> the task running its call; only touched from the event loop's thread.
        self._calls: dict[str, asyncio.Task[T]] = {}

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Return ``await fn()``, sharing one call among concurrent callers of ``key``.

        The call runs in its own task and each caller waits on it through ``asyncio.shield``:
        cancelling one caller (a client that hung up, a timeout) raises ``CancelledError`` in
        that caller only, and the call goes on for the others and still fills whatever cache
        ``fn`` fills. An exception raised by ``fn`` is raised in every waiting caller.
        """
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(self._run(key, fn))
            self._calls[key] = task
            # If every caller was cancelled nobody reads the outcome; read it here so asyncio
            # does not log "exception was never retrieved" for an error it already delivered.
            task.add_done_callback(_consume)
        return await asyncio.shield(task)

    async def _run(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await fn()
        finally:
            # forget() may have replaced this call with a newer one; only drop our own entry.
            if self._calls.get(key) is asyncio.current_task():
                del self._calls[key]

    def forget(self, key: str) -> None:
        """Detach the call in flight for ``key``, if any: the next caller starts a fresh one.

        Callers already waiting still get the old call's outcome. Use it when the data behind
        ``key`` changed while a load was running (``Group.remove``).
        """
        self._calls.pop(key, None)

    def is_current(self, key: str) -> bool:
        """Called from inside ``fn``: whether this call still answers for ``key``.

        False once :meth:`forget` detached it (the data behind the key changed meanwhile).
        """
        return self._calls.get(key) is asyncio.current_task()

    def in_flight(self, key: str) -> bool:
        """Whether a call for ``key`` is running now."""
        return key in self._calls

    def __len__(self) -> int:
        """The number of calls in flight."""
        return len(self._calls)


def _consume(task: asyncio.Task[object]) -> None:
    if not task.cancelled():
        task.exception()
