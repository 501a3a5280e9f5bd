"""gee.web: a gin-like ASGI web framework.

::

    from gee.web import Gee

    app = Gee()

    @app.get("/hello/:name")
    async def hello(c):
        return f"Hello, {c.param('name')}!"

Names are imported on first use (PEP 562), so that ``gee --help``, which imports
``gee.web.cli``, does not pay for the framework. Middleware lives in ``gee.web.middleware``;
the test client in ``gee.web.testing``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.web.app import Gee, RouterGroup
    from gee.web.context import Context
    from gee.web.errors import (
        BadPathError,
        BindError,
        ClientDisconnectedError,
        HTTPError,
        RouteConflictError,
        RouteError,
        WebError,
        WebSocketDisconnect,
    )
    from gee.web.forms import FormData, UploadFile
    from gee.web.response import Response
    from gee.web.websocket import WebSocket

__all__ = [
    "BadPathError",
    "BindError",
    "ClientDisconnectedError",
    "Context",
    "FormData",
    "Gee",
    "HTTPError",
    "Response",
    "RouteConflictError",
    "RouteError",
    "RouterGroup",
    "UploadFile",
    "WebError",
    "WebSocket",
    "WebSocketDisconnect",
]

_HOMES = {
    "BadPathError": "gee.web.errors",
    "BindError": "gee.web.errors",
    "ClientDisconnectedError": "gee.web.errors",
    "Context": "gee.web.context",
    "FormData": "gee.web.forms",
    "Gee": "gee.web.app",
    "HTTPError": "gee.web.errors",
    "Response": "gee.web.response",
    "RouteConflictError": "gee.web.errors",
    "RouteError": "gee.web.errors",
    "RouterGroup": "gee.web.app",
    "UploadFile": "gee.web.forms",
    "WebError": "gee.web.errors",
    "WebSocket": "gee.web.websocket",
    "WebSocketDisconnect": "gee.web.errors",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gee.web' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
