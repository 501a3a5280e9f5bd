"""Demo 1, hello world. Go: ``js.Global().Get("alert").Invoke("Hello World!")`` from ``main``.

Python prints (stdout goes to the page's output panel and to the browser console) and calls
``alert`` through the ``js`` module, the counterpart of Go's ``syscall/js``.
"""

from __future__ import annotations

import sys
from typing import Any

import js

from .dom import element, listen


def say_hello(event: Any) -> None:
    js.alert("Hello World!")


def main() -> None:
    print("Hello, World!")
    version = sys.version.split()[0]
    element("hello1").textContent = f"Hello, World! from Python {version} on {sys.platform}"
    listen(element("alert1"), "click", say_hello)
