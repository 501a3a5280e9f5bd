"""body_limit(): cap the request body of the routes it covers (413 beyond the cap)."""

from __future__ import annotations

from gee.web.context import Context
from gee.web.errors import HTTPError
from gee.web.types import Step


def body_limit(max_bytes: int) -> Step:
    """Answer 413 to bodies over ``max_bytes``: at once when Content-Length says so, else as
    soon as the bytes read pass the cap, so an oversized body is never read whole."""
    if max_bytes < 0:
        raise ValueError(f"body_limit needs a byte count >= 0, got {max_bytes}")

    async def limit(c: Context) -> None:
        declared = c.header("content-length")
        if (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > max_bytes
        ):
            raise HTTPError(413, f"request body over the {max_bytes}-byte limit")
        c.body_limit = max_bytes
        await c.next()

    return limit
