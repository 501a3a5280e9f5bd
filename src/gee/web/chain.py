"""Handler chains: each registered callable adapted once into an awaitable step.

Whether a callable is ``async def`` is decided here, at registration, never per request. Plain
``def`` callables run in the loop's default thread pool with the caller's contextvars, so a
blocking handler (a DB-API query, a file read) cannot stall every other request.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.web.context import Context
    from gee.web.types import Handler, Step


def is_async(fn: Any) -> bool:
    """Whether calling ``fn`` returns an awaitable (``async def``, or an object with one)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004  (callable objects with async __call__)
    )


async def run_sync(fn: Handler, c: Context) -> Any:
    """Run a plain ``def`` handler in the thread pool and return what it returned.

    A plain callable that returns an awaitable (``lambda c: some_async(c)``) has it awaited
    here, on the loop, rather than sent back as a value nobody awaits.
    """
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    result = await loop.run_in_executor(None, ctx.run, fn, c)
    if inspect.isawaitable(result):
        result = await result
    return result


def middleware_step(fn: Handler) -> Step:
    """A middleware as a step; its return value is ignored (it writes through the Context)."""
    if is_async(fn):
        return fn

    async def threaded(c: Context) -> None:
        await run_sync(fn, c)

    return threaded


def handler_step(fn: Handler) -> Step:
    """A route handler as the last step: its return value becomes the response."""
    if is_async(fn):

        async def rendered(c: Context) -> None:
            c.render(await fn(c))

    else:

        async def rendered(c: Context) -> None:
            c.render(await run_sync(fn, c))

    return rendered


def build(middleware: list[Handler], handler: Handler) -> tuple[Step, ...]:
    """The full chain: ``middleware`` (outermost first) then ``handler``."""
    return (*(middleware_step(m) for m in middleware), handler_step(handler))
