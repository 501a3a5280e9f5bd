"""Exceptions of gee.web.

::

    GeeError
     └── WebError              anything gee.web raises on purpose
          ├── RouteError       a route pattern that cannot be registered (set-up time)
          │    └── RouteConflictError   two patterns that clash; the message names both
          ├── BadPathError     a request path that cannot be decoded (answered 400)
          ├── HTTPError        raise it in a handler to answer a status with a message
          │    └── BindError   a body that does not fit ``c.bind``'s model (400, lists the fields)
          ├── ClientDisconnectedError   the client left while its body was being read
          └── WebSocketDisconnect       the client closed a websocket (its close code in .code)
"""

from __future__ import annotations

from gee.errors import GeeError


class WebError(GeeError):
    """Base of every exception gee.web raises on purpose."""


class RouteError(WebError):
    """A route pattern is malformed (empty segment name, catchall not last, ...)."""


class RouteConflictError(RouteError):
    """Two route patterns clash (duplicate, or different param names at one position)."""


class BadPathError(WebError):
    """A request path cannot be decoded (a malformed percent-escape, for example)."""


class HTTPError(WebError):
    """Raised by a handler or middleware: answer ``status`` with ``detail`` as the body."""

    def __init__(self, status: int, detail: str = "", headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {detail}" if detail else str(status))
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class BindError(HTTPError):
    """A request body that does not fit the model given to ``c.bind``: answered 400.

    ``errors`` lists every bad field as ``{"field": name, "error": message}``, so that a client
    can fix all of them at once rather than one per round trip.
    """

    def __init__(self, errors: list[dict[str, str]]):
        fields = ", ".join(e["field"] for e in errors)
        super().__init__(400, f"invalid fields: {fields}")
        self.errors = errors


class ClientDisconnectedError(WebError):
    """The client went away while its request body was being read; nothing can be answered."""


class WebSocketDisconnect(WebError):
    """The client closed the websocket; ``code`` is its close code."""

    def __init__(self, code: int = 1000) -> None:
        super().__init__(f"websocket closed with code {code}")
        self.code = code
