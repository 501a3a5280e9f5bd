"""Static files: ``static(prefix, directory)`` middleware and the handler behind
``group.static``. Paths never leave the directory: ``..`` segments are refused and symlinks
are resolved before the containment check. Files go out through ``c.file`` (ETag, Range, 304).
"""

from __future__ import annotations

import os

from gee.web.context import Context
from gee.web.errors import HTTPError
from gee.web.types import Step


def resolve(root: str, relative: str, index: str | None) -> str | None:
    """The real path of ``relative`` under ``root``, or None when outside it or not a file."""
    parts = [p for p in relative.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    full = os.path.realpath(os.path.join(root, *parts))
    if full != root and not full.startswith(root + os.sep):
        return None
    if os.path.isdir(full):
        if not index:
            return None
        full = os.path.join(full, index)
    return full if os.path.isfile(full) else None


def static(
    prefix: str, directory: str | os.PathLike[str], *, index: str | None = "index.html"
) -> Step:
    """Serve files of ``directory`` for GET/HEAD requests under ``prefix``; else pass on.

    ``prefix`` matches whole segments: ``/assets`` serves ``/assets/app.js`` but not
    ``/assetsxxx``. A directory serves its ``index`` file (None: 404).
    """
    root = os.path.realpath(directory)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"static directory {os.fspath(directory)!r} does not exist")
    base = prefix.rstrip("/")

    async def serve(c: Context) -> None:
        path = c.path
        if c.method in ("GET", "HEAD") and (path == base or path.startswith(base + "/")):
            target = resolve(root, path[len(base) :], index)
            if target is not None:
                c.file(target)
                c.abort()
                return
        await c.next()

    return serve


def serve_directory(directory: str | os.PathLike[str], index: str | None = "index.html") -> Step:
    """A handler serving ``c.param("filepath")`` from ``directory`` (404 when absent); without
    the param (the directory's own route) it serves the ``index`` file."""
    root = os.path.realpath(directory)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"static directory {os.fspath(directory)!r} does not exist")

    async def serve_file(c: Context) -> None:
        target = resolve(root, c.param("filepath", ""), index)
        if target is None:
            raise HTTPError(404, "file not found")
        c.file(target)

    return serve_file
