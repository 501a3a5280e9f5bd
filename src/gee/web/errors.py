"""Exceptions of gee.web.

::

    GeeError
     └── WebError              anything gee.web raises on purpose
          ├── RouteError       a route pattern that cannot be registered (set-up time)
          │    └── RouteConflictError   two patterns that clash; the message names both
          ├── BadPathError     a request path that cannot be decoded (answered 400)
          └── HTTPError        raise it in a handler to answer a status with a message
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
