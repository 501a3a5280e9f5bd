"""A minimal asyncio HTTP/1.1 client for the registry and etcd's JSON gateway.

gee.rpc needs a handful of small requests and one streaming response (etcd's watch), all on
loopback or a LAN; a full HTTP client library would be a runtime dependency for that. One
connection per request (``Connection: close``); fixed-length, chunked and read-to-close bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gee.rpc.errors import RPCConnectionError, RPCError

__all__ = ["Response", "request", "stream_lines"]

_MAX_HEAD = 64 * 1024


@dataclass
class Response:
    """A status, headers (names lower-cased) and the whole body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def _open(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Response]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise RPCError(f"rpc: want an http:// URL; got {url!r}")
    host, port = parts.hostname, parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        raise RPCConnectionError(f"rpc: cannot connect to {url}: {exc}") from exc
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
        writer.close()
        raise RPCConnectionError(f"rpc: no HTTP response from {url}: {exc}") from exc
    except BaseException:  # cancelled (a long-poll being stopped): do not leak the socket
        writer.close()
        raise
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        writer.close()
        raise RPCError(f"rpc: bad HTTP status line from {url}: {status_line!r}") from None
    response = Response(status)
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            response.headers[name.strip().lower()] = value.strip()
    return reader, writer, response


async def _chunks(reader: asyncio.StreamReader, response: Response) -> AsyncIterator[bytes]:
    if response.headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data
    elif "content-length" in response.headers:
        yield await reader.readexactly(int(response.headers["content-length"]))
    else:
        while data := await reader.read(65536):
            yield data


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass


async def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109 - one deadline for connect, send and read
) -> Response:
    """Send one request and return the whole response; RPCConnectionError on I/O failure."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer, response = await _open(method, url, body, headers)
            try:
                response.body = b"".join([c async for c in _chunks(reader, response)])
            except (asyncio.IncompleteReadError, OSError, ValueError) as exc:
                raise RPCConnectionError(f"rpc: broken HTTP response from {url}: {exc}") from exc
            finally:
                await _close(writer)
    except TimeoutError:
        raise RPCConnectionError(f"rpc: {method} {url} timed out after {timeout:g}s") from None
    return response


async def stream_lines(
    method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> AsyncGenerator[bytes, None]:
    """Yield the non-blank lines of a streaming response as they arrive (etcd's watch).

    Raises RPCError for a non-200 status; the stream ends when the server closes it.
    """
    reader, writer, response = await _open(method, url, body, headers)
    try:
        if response.status != 200:
            raise RPCError(f"rpc: {method} {url} answered {response.status}")
        pending = b""
        try:
            async for chunk in _chunks(reader, response):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
        except (asyncio.IncompleteReadError, OSError, ValueError) as exc:
            raise RPCConnectionError(f"rpc: stream from {url} broke: {exc}") from exc
        if pending.strip():
            yield pending
    finally:
        await _close(writer)
