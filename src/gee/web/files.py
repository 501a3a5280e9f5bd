"""Sending files: Content-Type, ETag/Last-Modified, conditional GET (304) and one Range (206/416).

Small files are read at once into the buffered body (so gzip can compress them); larger ones are
streamed in chunks read in a worker thread, so a slow disk never blocks the event loop.
Multi-range requests are answered with the whole file, which RFC 9110 allows.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterator
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gee.web.errors import HTTPError

if TYPE_CHECKING:
    from gee.web.context import Context

# Files up to this size are read in one go into the response body.
INLINE_SIZE = 64 * 1024
CHUNK_SIZE = 64 * 1024
_SPAN = re.compile(r"([0-9]*)-([0-9]*)")


def prepare_file(
    c: Context, path: str | os.PathLike[str], *, filename: str | None, content_type: str | None
) -> None:
    """Set ``c``'s response to the file at ``path`` (or 304/206/416 as the request asks)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise HTTPError(404, "file not found") from None
    if not stat.S_ISREG(st.st_mode):
        raise HTTPError(404, "file not found")
    size = st.st_size
    etag = f'"{st.st_mtime_ns:x}-{size:x}"'
    last_modified = formatdate(st.st_mtime, usegmt=True)
    c.set_header("etag", etag)
    c.set_header("last-modified", last_modified)
    c.set_header("accept-ranges", "bytes")
    if filename is not None:
        c.set_header("content-disposition", f"attachment; filename*=UTF-8''{quote(filename)}")

    if c.method in ("GET", "HEAD") and _not_modified(c, etag, int(st.st_mtime)):
        c.status(304)
        return

    if content_type is None:
        guessed, _ = mimetypes.guess_type(os.fspath(path))
        content_type = guessed or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript",):
            content_type += "; charset=utf-8"

    start, length, status = 0, size, 200
    wanted = c.header("range")
    if wanted and c.method in ("GET", "HEAD") and _if_range_ok(c, etag, last_modified):
        span = parse_range(wanted, size)
        if isinstance(span, str):
            c.set_header("content-range", f"bytes */{size}")
            c.data(416, b"", "text/plain; charset=utf-8")
            return
        if span is not None:
            start, end = span
            length, status = end - start + 1, 206
            c.set_header("content-range", f"bytes {start}-{end}/{size}")

    if length <= INLINE_SIZE:
        with open(path, "rb") as f:
            f.seek(start)
            c.data(status, f.read(length), content_type)
        return
    c.stream(status, _chunks(os.fspath(path), start, length), content_type)
    c.set_header("content-length", str(length))


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """The inclusive byte span a single-range ``Range`` header asks for.

    None means "ignore the header" (not bytes, several ranges, or malformed: serve it all);
    "unsatisfiable" means answer 416.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    m = _SPAN.fullmatch(spec.strip())
    if m is None:  # several ranges, or not digits (int() would take "1_0" or "+5")
        return None
    first, last = m.groups()
    if first == "":
        if last == "":
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size:
        return "unsatisfiable"
    if end < start:
        return None
    return start, min(end, size - 1)


def _not_modified(c: Context, etag: str, mtime: int) -> bool:
    match = c.header("if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.split(",")]
        return "*" in tags or etag in tags
    since = c.header("if-modified-since")
    if since is not None:
        when = _parse_date(since)
        return when is not None and mtime <= when
    return False


def _if_range_ok(c: Context, etag: str, last_modified: str) -> bool:
    validator = c.header("if-range")
    return validator is None or validator.strip() in (etag, last_modified)


def _parse_date(value: str) -> int | None:
    try:
        return int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


async def _chunks(path: str, start: int, length: int) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    f: Any = await loop.run_in_executor(None, open, path, "rb")
    try:
        await loop.run_in_executor(None, f.seek, start)
        while length > 0:
            data: bytes = await loop.run_in_executor(None, f.read, min(CHUNK_SIZE, length))
            if not data:
                return
            length -= len(data)
            yield data
    finally:
        f.close()
