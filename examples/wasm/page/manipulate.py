"""Demo 3, manipulate the DOM. Go: finds ``num``, ``ans`` and ``btn`` with ``getElementById`` and
adds a click listener that reads the input and writes the answer.

Python does the same and also builds a list: one ``<li>`` per Fibonacci number up to n.
"""

from __future__ import annotations

from typing import Any

import js

from .dom import element, listen
from .fib import fib

LIST_LIMIT = 30  # the list shows at most this many numbers


def on_click(event: Any) -> None:
    text = str(element("num3").value).strip()
    answer, items = element("ans3"), element("list3")
    items.replaceChildren()
    try:
        n = int(text)
    except ValueError:
        answer.textContent = f"{text!r} is not a whole number"
        return
    answer.textContent = f"fib({n}) = {fib(n)}"
    for i in range(min(n, LIST_LIMIT - 1) + 1):
        item = js.document.createElement("li")
        item.textContent = f"fib({i}) = {fib(i)}"
        items.appendChild(item)


def main() -> None:
    listen(element("btn3"), "click", on_click)
