"""The few DOM helpers the demos share: find an element, listen to it, export a function, spawn.

Every Python callable handed to JavaScript goes through ``create_proxy``, and the proxies are kept
in ``_HANDED_OUT`` for the life of the page: a proxy that JavaScript still holds must not be
destroyed, and these are wanted until the page closes.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

import js
from pyodide.ffi import create_proxy

__all__ = ["element", "export", "listen", "spawn"]

# Proxies given to JavaScript (listeners, window functions); never destroyed while the page lives.
_HANDED_OUT: list[Any] = []
# Tasks started by spawn(); asyncio keeps only weak references to running tasks.
_TASKS: set[asyncio.Future[Any]] = set()


def element(element_id: str) -> Any:
    """Return the element with this id; LookupError if the page has none."""
    found = js.document.getElementById(element_id)
    if found is None:
        raise LookupError(f"the page has no element #{element_id}")
    return found


def _reported(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``function`` so that an exception is printed (to the page) instead of lost in JS."""

    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception:
            traceback.print_exc()
            return None

    return call


def listen(target: Any, event: str, handler: Callable[[Any], object]) -> None:
    """Call ``handler(event)`` on every ``event`` of ``target`` (an element, window, ...)."""
    proxy = create_proxy(_reported(handler))
    _HANDED_OUT.append(proxy)
    target.addEventListener(event, proxy)


def export(name: str, function: Callable[..., Any]) -> None:
    """Set ``window[name]`` to ``function``, so that JavaScript (an ``onclick``) can call it."""
    proxy = create_proxy(_reported(function))
    _HANDED_OUT.append(proxy)
    setattr(js.window, name, proxy)


def spawn(coroutine: Coroutine[Any, Any, object]) -> None:
    """Run ``coroutine`` as a task on the page's event loop (Pyodide's loop is the browser's).

    This is what a ``go func() { ... }()`` becomes: Pyodide has no threads, so concurrent work is
    a task that gives the browser back its thread at every ``await``.
    """

    async def reported() -> None:
        try:
            await coroutine
        except Exception:
            traceback.print_exc()

    task = asyncio.ensure_future(reported())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
