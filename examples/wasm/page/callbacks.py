"""Demo 4, callbacks. Go: ``fibFunc(n, callback)`` starts a goroutine that sleeps 3 s and then
calls ``callback.Invoke(fib(n))``, after showing "Waiting 3s..." at once.

Pyodide has no threads: the goroutine becomes an asyncio task on the page's event loop, and
``await asyncio.sleep`` hands the browser its thread back while it waits. The other button shows
the other direction: Python awaiting JavaScript, a Promise made in JS and ``fetch`` to the server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import js

from .dom import element, export, listen, spawn
from .fib import fib

WAIT_SECONDS = 1.0


async def _later(n: int, callback: Any) -> None:
    await asyncio.sleep(WAIT_SECONDS)  # Go: time.Sleep inside the goroutine
    callback(fib(n))


def fib_async(n: float, callback: Any) -> None:
    """``window.fibAsync(n, callback)``: answer "Waiting" now, call ``callback(fib(n))`` later."""
    element("ans4").textContent = f"Waiting {WAIT_SECONDS:g}s…"
    spawn(_later(int(n), callback))


async def _await_javascript() -> None:
    out = element("await4")
    n = int(element("num4").value or 0)
    out.textContent = "Awaiting a JavaScript Promise…"
    echoed = await js.wait(300, n)  # window.wait: a Promise that resolves after 300 ms
    out.textContent = f"wait(300, {n}) resolved to {echoed}; fetching /api/fib/{n}…"
    started = time.perf_counter()
    response = await js.fetch(f"/api/fib/{n}")
    if not response.ok:
        out.textContent = f"GET /api/fib/{n}: {response.status} {await response.text()}"
        return
    body = (await response.json()).to_py()  # fib is a decimal string: exact past 2**53
    took = (time.perf_counter() - started) * 1000
    out.textContent = (
        f"wait(300, {n}) resolved to {echoed}; the gee.web server says fib({n}) = {body['fib']}"
        f" ({response.status}, {took:.0f} ms)"
    )


def main() -> None:
    export("fibAsync", fib_async)
    listen(element("btn4b"), "click", lambda event: spawn(_await_javascript()))
