"""gzip(): compress buffered responses for clients that accept gzip.

Only whole (buffered) bodies of compressible types at or above ``min_size`` are compressed;
streams pass through untouched. Big bodies are compressed in a worker thread so that a 10 MB
JSON dump does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module

from gee.web.context import Context
from gee.web.types import Step

_COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "image/svg+xml",
)
# Bodies above this are compressed off the event loop.
_THREAD_SIZE = 256 * 1024


def _compress(body: bytes, level: int) -> bytes:
    return gzip_module.compress(body, level, mtime=0)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (``gzip;q=0`` does not)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


def gzip(min_size: int = 500, level: int = 6) -> Step:
    """Gzip responses of at least ``min_size`` bytes at compression ``level`` (1-9)."""

    async def compress(c: Context) -> None:
        await c.next()
        body = c.response_body
        if body is None or len(body) < min_size or c.status_code in (204, 206, 304):
            return
        if c.response_header("content-encoding") is not None:
            return
        ctype = c.response_header("content-type") or ""
        if not ctype.startswith(_COMPRESSIBLE):
            return
        try:
            if not accepts_gzip(c.header("accept-encoding") or ""):
                return
        except ValueError:
            return
        if len(body) > _THREAD_SIZE:
            loop = asyncio.get_running_loop()
            packed = await loop.run_in_executor(None, _compress, body, level)
        else:
            packed = _compress(body, level)
        c.data(c.status_code, packed, ctype)
        c.set_header("content-encoding", "gzip")
        c.add_header("vary", "Accept-Encoding")
        etag = c.response_header("etag")
        if etag is not None and not etag.startswith("W/"):
            c.set_header("etag", "W/" + etag)

    return compress
