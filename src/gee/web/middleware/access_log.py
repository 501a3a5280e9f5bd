"""logger(): one log line per request (method, path, status, latency) through ``logging``."""

from __future__ import annotations

import logging
import time

from gee.web.context import Context
from gee.web.types import Step


def logger(name: str = "gee.web.access", level: int = logging.INFO) -> Step:
    """Log ``METHOD path status latency`` at ``level`` on logger ``name``.

    Nothing is formatted while the level is disabled: the check costs one call per request.
    Put it first (outermost) so that the latency covers the other middleware.
    """
    log = logging.getLogger(name)

    async def log_request(c: Context) -> None:
        if not log.isEnabledFor(level):
            await c.next()
            return
        start = time.perf_counter()
        status = 500  # if an exception escapes, that is what the client will get
        try:
            await c.next()
            status = c.status_code
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            log.log(level, "%s %s %d %.2fms", c.method, c.path, status, elapsed)

    return log_request
