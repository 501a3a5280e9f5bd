"""Start every demo; the page's loader calls ``main()`` once gee's wheel is installed."""

from __future__ import annotations

import time

from . import callbacks, gee_cache, gee_orm, gee_router, hello, manipulate, register


def main() -> float:
    """Wire up the five demos; return the seconds it took."""
    started = time.perf_counter()
    for demo in (hello, register, manipulate, callbacks, gee_router, gee_cache, gee_orm):
        demo.main()
    return time.perf_counter() - started
