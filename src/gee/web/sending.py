"""Sending a Context's buffered response or stream to ASGI ``send``.

The app sends the commonest response (a buffered body) inline on its fast path; this module
does the rest: bodiless statuses, streams, and watching for a client that leaves mid-stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gee.web.context import Context
    from gee.web.types import Message, Receive, Send

# Statuses whose responses carry no body and no Content-Length.
NO_BODY = frozenset((204, 304))


async def send_response(c: Context, send: Send) -> None:
    """Send ``c``'s response: its buffered body, or its stream."""
    if c._stream is not None:
        await _send_stream(c, send)
        return
    status = c._status
    body = c._body
    if status in NO_BODY:
        headers = c._headers or []
        body = b""
    else:
        headers = [(b"content-length", b"%d" % len(body))]
        if c._content_type is not None:
            headers.append((b"content-type", c._content_type))
        if c._headers:
            headers += c._headers
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if c.scope["method"] == "HEAD":
        body = b""
    await send({"type": "http.response.body", "body": body})


async def _send_stream(c: Context, send: Send) -> None:
    """Send a stream while watching for the client leaving; cancel the stream if it does.

    Without the watcher an endless stream (server-sent events) would run on for ever after its
    client went away: uvicorn drops writes to a closed connection without raising.
    """
    stream = c._stream
    assert stream is not None
    headers = [(b"content-type", c._content_type or b"application/octet-stream")]
    headers += c._headers or []
    await send({"type": "http.response.start", "status": c._status, "headers": headers})
    if c.scope["method"] == "HEAD":
        await aclose(stream)
        await send({"type": "http.response.body", "body": b""})
        return

    async def pump() -> None:
        try:
            async for chunk in stream:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await aclose(stream)
        await send({"type": "http.response.body", "body": b""})

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(_wait_disconnect(c._receive))
    try:
        await asyncio.wait((pumping, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            if not task.done():
                task.cancel()
        results = await asyncio.gather(pumping, watching, return_exceptions=True)
    error = results[0]
    if isinstance(error, BaseException) and not isinstance(error, asyncio.CancelledError):
        raise error


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


async def encode_chunks(chunks: AsyncIterable[bytes | str]) -> AsyncIterator[bytes]:
    """``chunks`` as bytes (str chunks encoded as UTF-8); closes ``chunks`` when done."""
    try:
        async for chunk in chunks:
            yield chunk.encode() if isinstance(chunk, str) else chunk
    finally:
        await aclose(chunks)


async def aclose(stream: object) -> None:
    """Close an async generator (or anything with ``aclose``); a no-op for other iterables."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
