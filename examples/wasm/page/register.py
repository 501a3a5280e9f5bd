"""Demo 2, register functions. Go: ``js.Global().Set("fibFunc", js.FuncOf(fibFunc))``.

A Python function set on ``window``; the page's HTML calls it from a button's ``onclick``::

    <button onclick="ans2.textContent = fibFunc(num2.value * 1)">
"""

from __future__ import annotations

from .dom import export
from .fib import fib


def fib_func(n: float) -> int:
    """What ``window.fibFunc(n)`` runs: JavaScript numbers arrive as int or float."""
    return fib(int(n))


def main() -> None:
    export("fibFunc", fib_func)
