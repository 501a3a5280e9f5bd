"""Response: a value a handler may return instead of writing through the Context.

Returning ``"text"``, ``b"bytes"``, a ``dict``/``list`` (JSON) or ``None`` covers most handlers;
``Response`` is for the rest: another status, a content type, extra headers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import msgspec
import orjson

# Content types as the bytes that go on the wire, built once rather than per response.
TEXT = b"text/plain; charset=utf-8"
HTML = b"text/html; charset=utf-8"
JSON = b"application/json"
OCTET = b"application/octet-stream"


def _default(obj: Any) -> Any:
    """Teach orjson the types it does not know (msgspec Structs, sets, ...) via msgspec."""
    return msgspec.to_builtins(obj)


# What orjson says of an int outside [-2**63, 2**64): JSON has no such limit, and json can write it.
_WIDE_INT = "Integer exceeds 64-bit range"


def dump_json(obj: Any) -> bytes:
    """Serialize ``obj`` to JSON bytes: orjson for speed, msgspec for Structs and the rest.

    Ints beyond 64 bits (``fib(100)``), which orjson refuses, are written by the standard
    library's json instead; only then, so every other value costs one orjson call.
    """
    try:
        return orjson.dumps(obj, default=_default)
    except orjson.JSONEncodeError as exc:
        if str(exc) != _WIDE_INT:
            raise
    return _dump_wide(obj)


def _dump_wide(obj: Any) -> bytes:
    """``dump_json`` by the standard library's json, shaped like orjson's output: compact,
    UTF-8 rather than \\u escapes, NaN and infinities as null."""
    return json.dumps(
        _finite(obj), separators=(",", ":"), ensure_ascii=False, default=_default_wide
    ).encode()


def _default_wide(obj: Any) -> Any:
    """A value json does not know (a datetime, a Struct, ...) as orjson would write it; one
    that itself holds a wide int as msgspec turns it into builtins."""
    try:
        return orjson.loads(orjson.dumps(obj, default=_default))
    except orjson.JSONEncodeError as exc:
        if str(exc) != _WIDE_INT:
            raise
    return _finite(msgspec.to_builtins(obj))


def _finite(obj: Any) -> Any:
    """``obj`` with NaN and the infinities replaced by None, as orjson writes them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


class Response:
    """A complete response: ``body`` with ``status``, ``content_type`` and extra ``headers``.

    A ``str`` body is encoded as UTF-8 and defaults to text/plain; a ``bytes`` body defaults to
    application/octet-stream. ``Response.json(obj)`` builds a JSON one.
    """

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        *,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(body, str):
            self.body = body.encode()
            ctype = TEXT if content_type is None else content_type.encode("latin-1")
        else:
            self.body = body
            ctype = OCTET if content_type is None else content_type.encode("latin-1")
        self.status = status
        self.content_type: bytes = ctype
        self.headers: list[tuple[bytes, bytes]] = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ]

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A JSON response of ``obj``."""
        return cls(dump_json(obj), status, content_type="application/json", headers=headers)

    def __repr__(self) -> str:
        return f"Response(status={self.status}, body={self.body[:40]!r})"
